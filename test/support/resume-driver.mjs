// One invocation of a resumable image copy in a process of its own (Ferry from dist/), as the next
// Lambda invocation would run it: reads {from, to, checkpoint, budget, chunkSize} as JSON on stdin,
// copies with a deadline that comes near once `budget` bytes were read in this process, and prints
// the result (status, and the checkpoint when it parked) as one JSON object. Plain JavaScript:
//
//   echo '{"from":{"host":"127.0.0.1:5000","repo":"a"},"to":{...},"budget":25165824}' | node resume-driver.mjs
import process from 'node:process';
import { anonymous } from '../../dist/functions/oci/auth/credentials.js';
import { parseCheckpoint } from '../../dist/functions/mirror/blob-checkpoint.js';
import { createCopyEngine } from '../../dist/functions/mirror/engine.js';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const { from, to, checkpoint: raw, budget, chunkSize } = JSON.parse(input);
const checkpoint = raw === undefined ? undefined : parseCheckpoint(raw);
if (raw !== undefined && checkpoint === undefined) throw new Error('not a checkpoint');
const base = checkpoint?.uploads[0]?.offset ?? 0;
let latest = base;
const engine = createCopyEngine({
  sourceCredentials: anonymous,
  destinationCredentials: anonymous,
  blobs: { progress: { onBytes: (_descriptor, done) => (latest = done) } },
});
const image = (side, role) =>
  engine.registries.image({ kind: 'registry', ref: { registry: side.host, repository: side.repo, tag: 'v1' } }, role);
try {
  const result = await engine.copier.copyResumable(image(from, 'source'), image(to, 'destination'), {
    deadline: { remainingMs: () => (latest - base >= budget ? 0 : 3_600_000) },
    checkpoint,
    chunkSize,
  });
  process.stdout.write(JSON.stringify(result));
} finally {
  await engine.close();
}
