// The community example subgraph for bench/gateway.ts, in its own process, with the comments
// the runner gives it (COMMUNITY_DATA, a JSON file of CommunityData).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CommunityData, createCommunitySubgraph } from '../examples/community-subgraph.ts';

const data = JSON.parse(readFileSync(process.env.COMMUNITY_DATA ?? '', 'utf8')) as CommunityData;
const server = createServer(createCommunitySubgraph(data));
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`community subgraph serves http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
