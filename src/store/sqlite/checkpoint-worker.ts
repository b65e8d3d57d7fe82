// Runs in a worker thread: checkpoints the WAL of the store's database from its own connection,
// so that the copying and fsyncs of a checkpoint never block the event loop of the server.
// PASSIVE checkpoints never wait for (or block) the main connection's readers and writers.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

interface CheckpointWorkerData {
  path: string;
  intervalMs: number;
}

const { path, intervalMs } = workerData as CheckpointWorkerData;
const db = new Database(path);
db.pragma('busy_timeout = 1000');
db.pragma('synchronous = NORMAL');

const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (e) {
    parentPort?.postMessage({ type: 'error', message: (e as Error).message });
  }
}, intervalMs);

parentPort?.on('message', (m: { type?: string }) => {
  if (m.type === 'stop') {
    clearInterval(timer);
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } finally {
      db.close();
      parentPort?.close();
    }
  }
});
