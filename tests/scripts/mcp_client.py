"""A real MCP client (the `mcp` package) driving `devctl mcp` over stdio.

Usage: mcp_client.py DEVCTL DIR < plan.json

The plan is a JSON list of tool calls, {"tool": NAME, "args": {...}}. The
client starts `DEVCTL mcp` in DIR with the caller's environment, runs the
MCP handshake, lists the tools, makes each call in order, and prints one
JSON object: the server's name, the tools (name, description, input schema,
annotations) and, per call, whether it was a tool error and its text. The
test that runs it makes the assertions.
"""

import asyncio
import json
import os
import sys

from mcp import ClientSession, StdioServerParameters, stdio_client


async def main() -> None:
    devctl, directory = sys.argv[1], sys.argv[2]
    plan = json.load(sys.stdin)
    params = StdioServerParameters(
        command=devctl, args=["mcp"], env=dict(os.environ), cwd=directory
    )
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            listed = await session.list_tools()
            tools = [
                {
                    "name": t.name,
                    "description": t.description,
                    "input_schema": t.input_schema,
                    "annotations": t.annotations.model_dump(exclude_none=True)
                    if t.annotations
                    else None,
                }
                for t in listed.tools
            ]
            results = []
            for call in plan:
                r = await session.call_tool(call["tool"], call.get("args") or {})
                text = "\n".join(c.text for c in r.content if getattr(c, "type", "") == "text")
                results.append({"tool": call["tool"], "is_error": bool(r.is_error), "text": text})
    print(
        json.dumps(
            {"server": init.server_info.name, "tools": tools, "results": results}
        )
    )


asyncio.run(main())
