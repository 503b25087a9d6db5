/** Runs the quickstart against a local flaky server: two 503s, then the item; then a 401. */
import { classify } from '../../src/index.js';
import { flakyServer } from '../../src/testing/index.js';
import { fetchItem } from './quickstart.js';

const server = await flakyServer();
server.script('/items/42', 503, 503, { status: 200, body: { id: 42, name: 'answer' } });
server.script('/items/7', 401);
try {
  console.log('item 42:', await fetchItem(server.url, 42));
  await fetchItem(server.url, 7);
} catch (error) {
  const fault = classify(error);
  console.log('item 7 failed:', fault.category, '-', fault.message);
  for (const suggestion of fault.suggestions) console.log('  •', suggestion);
} finally {
  await server.close();
}
