// Entry point: pick the host (Electron preload, or the browser host's WebSocket; #fake for the
// in-memory demo host) and mount the app.

import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { connect, type HexmapApi } from "./api";
import { App } from "./App";
import { fakeApi } from "./fakeHost";
import "./styles.css";

function pickApi(): HexmapApi {
  if (!window.hexmap && window.location.hash === "#fake") return fakeApi();
  return connect();
}

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App api={pickApi()} />
    </StrictMode>,
  );
}
