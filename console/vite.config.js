import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

// Built into the Python package (kiln/console/static/) and served by kiln serve at /_kiln/console/.
// `npm run dev` serves the page on Vite's port and passes API and /_kiln/ calls to a kiln on 4599.
export default defineConfig({
  base: "/_kiln/console/",
  plugins: [preact({ prerender: { enabled: false } })],
  build: {
    outDir: "../kiln/console/static",
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    target: "es2020",
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 400,
  },
  server: {
    // Vite's own files are under the base; everything else (the API, /_kiln/, config.json) is kiln's.
    // The Host header is kept, so the signatures and the admin routes' same-origin check still hold.
    proxy: {
      "/_kiln/console/config.json": { target: "http://127.0.0.1:4599" },
      "^/(?!_kiln/console/)": { target: "http://127.0.0.1:4599" },
    },
  },
});
