// Opens a SQLite store and writes one job, then prints what happened as one JSON line. Run by
// sqlite-faults.test.ts as an unprivileged user (root ignores file permissions).
import { classify } from '../../src/faults/classify.js';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';

const path = process.argv[2]!;
try {
  const store = new SqliteStore(path);
  try {
    await store.enqueue([{ queue: 'q', payload: '{}', priority: 0, runAt: 0 }], 0);
    process.stdout.write(`${JSON.stringify({ ok: true })}\n`);
  } catch (error) {
    const fault = classify(error);
    process.stdout.write(
      `${JSON.stringify({ ok: false, at: 'enqueue', name: (error as Error).name, message: (error as Error).message, category: fault.category, retryable: fault.retryable })}\n`,
    );
  } finally {
    await store.close();
  }
} catch (error) {
  const fault = classify(error);
  process.stdout.write(
    `${JSON.stringify({ ok: false, at: 'open', name: (error as Error).name, message: (error as Error).message, category: fault.category, retryable: fault.retryable })}\n`,
  );
}
