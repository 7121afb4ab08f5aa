// The fan-out baseline: graphql-ws as its documentation shows it, one graphql-js execution per subscriber
// per event. Run as a child process by fan-out.ts; POST /publish emits one event to every subscriber.
import { createServer } from 'node:http';
import { createPubSub, createSchema } from 'graphql-yoga';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';

interface Event {
  seq: number;
  occurredAt: string;
  action: string;
  outcome: string;
  actorType: string;
  actorId: string;
  targetType: string;
  targetId: string;
  ip: string;
  userAgent: string;
  details: string;
}

const pubsub = createPubSub<{ audit: [Event] }>();
const schema = createSchema({
  typeDefs: `
    type AuditEvent { seq: Int! occurredAt: String! action: String! outcome: String! actorType: String! actorId: ID
      targetType: String targetId: ID ip: String userAgent: String details: String }
    input AuditEventFilter { actions: [String!] }
    type Query { hello: String }
    type Subscription { auditEvents(filter: AuditEventFilter): AuditEvent! }`,
  resolvers: {
    Subscription: { auditEvents: { subscribe: () => pubsub.subscribe('audit'), resolve: (event: Event) => event } },
  },
});

let seq = 0;
const server = createServer((req, res) => {
  if (req.url === '/healthz') return void res.writeHead(200).end('{"status":"ok"}');
  if (req.url === '/publish' && req.method === 'POST') {
    seq += 1;
    pubsub.publish('audit', {
      seq,
      occurredAt: new Date().toISOString(),
      action: 'audit.read',
      outcome: 'SUCCESS',
      actorType: 'USER',
      actorId: '3f6c1a52-4a7e-4f3e-9a5e-0c6f0d9b8e11',
      targetType: 'user',
      targetId: '3f6c1a52-4a7e-4f3e-9a5e-0c6f0d9b8e11',
      ip: '127.0.0.1',
      userAgent: 'bench',
      details: '{"filter":{}}',
    });
    return void res.writeHead(200).end('{}');
  }
  res.writeHead(404).end();
});
useServer({ schema }, new WebSocketServer({ server, path: '/graphql' }));
server.listen(Number(process.env.PORT), '127.0.0.1');
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
});
