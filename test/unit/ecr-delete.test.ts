import {
  type BatchDeleteImageCommand,
  type BatchDeleteImageCommandOutput,
  RepositoryNotFoundException,
} from '@aws-sdk/client-ecr';
import { describe, expect, it } from 'vitest';
import { EcrManifestDeleter } from '../../functions/aws/ecr-delete.js';
import type { Digest } from '../../functions/oci/digest.js';
import { ErrorNames, type RegistryError } from '../../functions/oci/errors.js';
import { MemoryRepository } from '../support/memory-repository.js';

const ecrHost = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';

/** A recorded-command ECR client: keeps every command's region and input, answers from a script. */
function recordingEcr(answer: (input: BatchDeleteImageCommand['input']) => BatchDeleteImageCommandOutput) {
  const sent: { region: string; input: BatchDeleteImageCommand['input'] }[] = [];
  const client = (region: string) => ({
    send: (command: BatchDeleteImageCommand): Promise<BatchDeleteImageCommandOutput> => {
      sent.push({ region, input: command.input });
      return Promise.resolve(answer(command.input));
    },
  });
  return { sent, client };
}

const output = (rest: Partial<BatchDeleteImageCommandOutput>): BatchDeleteImageCommandOutput => ({
  $metadata: {},
  ...rest,
});

function image(repository: MemoryRepository, tag: string): Digest {
  const config = repository.addBlob(`{"tag":"${tag}"}`, 'application/vnd.oci.image.config.v1+json');
  return repository.addManifest(
    { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: [] },
    tag,
  ).digest;
}

async function rejection(attempt: Promise<unknown>): Promise<RegistryError> {
  const err = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  return err as RegistryError;
}

describe('EcrManifestDeleter', () => {
  it('deletes an ECR image with one BatchDeleteImage by digest, in the host account and region', async () => {
    const repository = new MemoryRepository('team/app', { registry: ecrHost });
    const digest = image(repository, 'v1');
    const ecr = recordingEcr((input) =>
      output({ imageIds: [{ imageDigest: input.imageIds![0]!.imageDigest!, imageTag: 'v1' }], failures: [] }),
    );
    await new EcrManifestDeleter({ client: ecr.client }).delete(repository, digest);
    expect(ecr.sent).toEqual([
      {
        region: 'eu-west-1',
        input: { registryId: '123456789012', repositoryName: 'team/app', imageIds: [{ imageDigest: digest }] },
      },
    ]);
    // The registry API was not used: nothing went through the repository.
    expect(repository.calls).toEqual([]);
  });

  it.each([
    ['ImageNotFound', ErrorNames.notFound, false],
    ['ImageReferencedByManifestList', ErrorNames.registry, false],
    ['UpstreamTooManyRequests', ErrorNames.registry, true],
  ])('turns a %s failure into a typed error', async (failureCode, name, retryable) => {
    const repository = new MemoryRepository('team/app', { registry: ecrHost });
    const digest = image(repository, 'v1');
    const ecr = recordingEcr((input) =>
      output({
        imageIds: [],
        failures: [{ imageId: input.imageIds![0]!, failureCode: failureCode as 'ImageNotFound', failureReason: 'r' }],
      }),
    );
    const err = await rejection(new EcrManifestDeleter({ client: ecr.client }).delete(repository, digest));
    expect(err.name).toBe(name);
    expect(err.code).toBe(failureCode);
    expect(err.registry).toBe(ecrHost);
    expect(err.repository).toBe('team/app');
    expect(err.retryable).toBe(retryable);
  });

  it('reports a missing repository as NotFoundError', async () => {
    const repository = new MemoryRepository('gone', { registry: ecrHost });
    const client = () => ({
      send: (): Promise<BatchDeleteImageCommandOutput> =>
        Promise.reject(new RepositoryNotFoundException({ message: 'no such repository', $metadata: {} })),
    });
    const err = await rejection(new EcrManifestDeleter({ client }).delete(repository, image(repository, 'x')));
    expect(err.name).toBe(ErrorNames.notFound);
  });

  it('sends repositories on other registries to the registry API, not to ECR', async () => {
    const repository = new MemoryRepository('library/app', { registry: 'registry.test' });
    const gone = image(repository, 'old');
    const kept = image(repository, 'new');
    const ecr = recordingEcr(() => output({}));
    await new EcrManifestDeleter({ client: ecr.client }).delete(repository, gone);
    expect(ecr.sent).toEqual([]);
    expect(repository.calls).toEqual([{ op: 'deleteManifest', target: gone }]);
    expect([...repository.tags]).toEqual([['new', kept]]);
  });

  it('passes the registry API refusal through (DeleteDisabledError)', async () => {
    const repository = new MemoryRepository('library/app', {
      registry: 'registry.test',
      faults: { deletesDisabled: true },
    });
    const err = await rejection(new EcrManifestDeleter().delete(repository, image(repository, 'v1')));
    expect(err.name).toBe(ErrorNames.deleteDisabled);
    expect(err.code).toBe('DELETE_DISABLED');
  });
});
