//! devctl's own unit files for a compiled project: one file per unit
//! (`api.service`, `backend.target`, `pizzeria.target`), written by the
//! unit model's serializer so the supervisor reads back exactly the same
//! units. File names are the units' own (`Unit::file_name`), which are
//! unique within a project because unit names are.

use std::collections::BTreeMap;

use crate::Compiled;

/// File name → unit-file text for every unit, project target included.
pub fn emit_devctl(c: &Compiled) -> BTreeMap<String, String> {
    c.units
        .iter()
        .map(|u| (u.file_name(), devctl_units::to_unit_file(u)))
        .collect()
}
