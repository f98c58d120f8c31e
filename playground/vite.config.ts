// The playground's Vite build. Cross-origin isolation (COOP/COEP) is what makes SharedArrayBuffer,
// and so the WASM thread pool, available in the page; every server of the playground sends it.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
} as const;

/**
 * Never loaded in a browser, only named on paths guarded by "is this Node?": Dawn's Node bindings
 * (src/backends/wgsl/node-gpu.ts) and Node's built-ins (worker_threads for the thread pool).
 */
const NODE_ONLY = [/^node:/, 'webgpu'];

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  // binaryen uses top-level await; ES2022 is the first target that has it.
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 16_000,
    // The timing report names Vite's worker plugin, which is simply where binaryen is bundled.
    rolldownOptions: { external: NODE_ONLY, checks: { bundlerTimings: false } },
  },
  worker: { format: 'es', rolldownOptions: { external: NODE_ONLY } },
  optimizeDeps: { exclude: ['binaryen'] },
  server: { host: '127.0.0.1', headers: ISOLATION_HEADERS, fs: { allow: ['..'] } },
  preview: { host: '127.0.0.1', headers: ISOLATION_HEADERS },
});
