import { test } from 'vitest';
import { screenshot, signInThroughUi, startStack } from './harness.ts';

test('debug', async () => {
  const stack = await startStack();
  const { page } = await stack.open();
  page.on('console', (m) => console.log('[console]', m.type(), m.text()));
  page.on('websocket', (ws) => { console.log('[ws open]', ws.url()); ws.on('framesent', (f) => console.log('[sent]', String(f.payload).slice(0, 300))); ws.on('framereceived', (f) => console.log('[recv]', String(f.payload).slice(0, 300))); ws.on('close', () => console.log('[ws close]')); ws.on('socketerror', (e) => console.log('[ws err]', e)); });
  await signInThroughUi(page, stack.owner);
  await page.getByRole('link', { name: 'Live feed' }).click();
  await new Promise((r) => setTimeout(r, 4000));
  await screenshot(page, 'debug');
  console.log(await page.locator('main').innerText());
  await stack.stop();
}, 60000);
