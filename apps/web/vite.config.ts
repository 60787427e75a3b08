import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The dev server proxies the API so the browser sees one origin, as in production where the API
// server serves the built app: cookies, the CSP's 'self' and the server's Origin check all hold.
// `changeOrigin` stays off: the API compares the Origin header with Host, which must stay the
// Vite origin for that check to pass.
const apiUrl = process.env.API_URL ?? 'http://localhost:3000';

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      '/trpc': { target: apiUrl, ws: true },
      '/healthz': { target: apiUrl },
    },
  },
  preview: {
    proxy: {
      '/trpc': { target: apiUrl, ws: true },
      '/healthz': { target: apiUrl },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
  },
});
