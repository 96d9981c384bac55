// Boots a pipeline thread from TypeScript sources: worker threads do not inherit tsx's loader on Node 20, so the
// thread registers it before importing its real entry. A build (dist/, .js entry) starts the entry directly.
import { workerData } from 'node:worker_threads';

if (!workerData.entry.endsWith('.js')) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import(workerData.entry);
