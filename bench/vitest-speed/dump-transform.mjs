import { createServer } from 'vite';
const server = await createServer({ configFile: false, root: '/work/main', resolve: { conditions: ['source'] }, ssr: { resolve: { conditions: ['source'] } }, oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } }, server: { middlewareMode: true, hmr: false }, appType: 'custom' });
const r = await server.environments.ssr.transformRequest(process.argv[2]);
console.log(r.code);
await server.close();
