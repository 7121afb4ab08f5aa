import { type ChildServer, freePort, startChildServer } from './child-server.ts';

export const BARE_QUERY = '{ hello }';
export const BARE_RESPONSE = '{"data":{"hello":"world"}}';

/** The bare graphql-yoga baseline, in its own process like Vigil. */
export async function startBareYoga(): Promise<ChildServer> {
  const port = await freePort();
  return startChildServer('bare graphql-yoga', 'bench/support/bare-yoga-server.ts', port, { PATH: process.env.PATH, PORT: String(port) });
}
