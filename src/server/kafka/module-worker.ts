import { Worker, type WorkerOptions } from "node:worker_threads";

/**
 * A worker thread running `module`, named as an import names it (".js"). Built, the file is
 * there to run. From the sources (tsx, vitest) the worker runs the ".ts" file beside it and
 * registers tsx first: on Node 20 neither a thread's loader hooks nor tsx's --import reach the
 * threads it starts. It inherits no execArgv, so a Node that does pass tsx on registers it once.
 */
export function moduleWorker(module: URL, options: WorkerOptions = {}): Worker {
  if (!import.meta.url.endsWith(".ts")) return new Worker(module, options);
  const source = JSON.stringify(module.href.replace(/\.js$/, ".ts"));
  const tsx = JSON.stringify(import.meta.resolve("tsx/esm/api"));
  const start = `import(${tsx}).then((tsx) => { tsx.register(); return import(${source}); });`;
  return new Worker(start, { ...options, eval: true, execArgv: [] });
}
