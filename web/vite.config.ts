// The dashboard's build: web/ -> dist/web, served by the server at / (src/http/routes/web.ts).
// Everything is bundled: the page loads nothing from elsewhere.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    // Source maps stay out of the served bundle; the sources are in the repository.
    sourcemap: false,
    target: 'es2022',
  },
});
