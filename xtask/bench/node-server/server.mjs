// A minimal automerge-repo 2.5 sync server for `cargo xtask bench load`,
// shaped like automerge-repo-sync-server: the WebSocket server adapter on a
// `ws` server, documents kept by the nodefs storage adapter, default
// debounce rates (100 ms before each sync and each save).
//
// Usage: node server.mjs PORT DATA_DIR   (listens on 127.0.0.1 only)
import { WebSocketServer } from "ws"
import { Repo } from "@automerge/automerge-repo"
import { WebSocketServerAdapter } from "@automerge/automerge-repo-network-websocket"
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs"

const [port, dir] = process.argv.slice(2)
if (!port || !dir) {
  console.error("usage: node server.mjs PORT DATA_DIR")
  process.exit(2)
}
const wss = new WebSocketServer({ host: "127.0.0.1", port: Number(port) })
new Repo({
  network: [new WebSocketServerAdapter(wss)],
  storage: new NodeFSStorageAdapter(dir),
  peerId: "node-bench-server",
  // Like the sync server: answer requests, never announce documents.
  sharePolicy: async () => false,
})
wss.on("listening", () => console.log(`listening on 127.0.0.1:${port}`))
