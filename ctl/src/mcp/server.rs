//! The protocol side of `devctl mcp`: an rmcp `ServerHandler` that lists
//! [`super::tools::catalogue`] (with read-only / destructive / idempotent
//! annotations) and runs calls through [`super::tools::Tools`], served
//! over stdin/stdout until the client closes them. Nothing but protocol
//! messages is written to stdout; warnings go to stderr.

use std::sync::Arc;

use rmcp::ServiceExt;
use rmcp::handler::server::ServerHandler;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
    ToolAnnotations,
};
use rmcp::service::{RequestContext, RoleServer};

use super::tools::{Effect, ToolSpec, Tools, catalogue};
use crate::error::CtlError;
use crate::exit::Exit;
use crate::opts::Context;

/// What the server tells a client about itself.
const INSTRUCTIONS: &str = "devctl runs a project's services, builds and containers from its \
devctl.kdl. Tools address the project of `directory` (default: where devctl mcp was started) or \
of `project`; units are names, PROJECT/NAME or globs. start/stop/restart block until units are \
ready or stopped. Errors are worded as the devctl command line words them.";

#[derive(Clone)]
struct Server {
    tools: Arc<Tools>,
}

fn tool(spec: &ToolSpec) -> Tool {
    let schema = match &spec.schema {
        serde_json::Value::Object(m) => m.clone(),
        _ => serde_json::Map::new(),
    };
    let annotations = ToolAnnotations::with_title(spec.title)
        .read_only(spec.effect == Effect::ReadOnly)
        .destructive(spec.effect == Effect::Destructive)
        .idempotent(spec.idempotent)
        .open_world(false);
    Tool::new(spec.name, spec.description, Arc::new(schema))
        .with_title(spec.title)
        .with_annotations(annotations)
}

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("devctl", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, rmcp::ErrorData> {
        Ok(ListToolsResult::with_all_items(
            catalogue().iter().map(tool).collect(),
        ))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        catalogue().iter().find(|t| t.name == name).map(tool)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, rmcp::ErrorData> {
        if !catalogue().iter().any(|t| t.name == request.name) {
            return Err(rmcp::ErrorData::invalid_params(
                format!("no tool {:?}", request.name),
                None,
            ));
        }
        let args = serde_json::Value::Object(request.arguments.unwrap_or_default());
        let outcome = self.tools.call(&request.name, args).await;
        let content = vec![ContentBlock::text(outcome.text)];
        Ok(if outcome.is_error {
            CallToolResult::error(content)
        } else {
            CallToolResult::success(content)
        }
        .into())
    }
}

/// `devctl mcp`: serve until the client hangs up.
pub async fn serve(ctx: &Context) -> Result<Exit, CtlError> {
    let server = Server {
        tools: Arc::new(Tools { base: ctx.clone() }),
    };
    let failed = |what: &str, e: &dyn std::fmt::Display| CtlError::Failed {
        message: format!("MCP {what}: {e}"),
    };
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| failed("handshake", &e))?;
    running.waiting().await.map_err(|e| failed("server", &e))?;
    Ok(Exit::Ok)
}
