import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { type Digest, digestOf, isDigest } from '../../functions/oci/digest.js';
import { AuthenticationError, DeleteDisabledError, NotFoundError, TransportError } from '../../functions/oci/errors.js';
import { type Descriptor, type Manifest, parseManifest } from '../../functions/oci/manifest.js';
import type { BlobBody, ManifestHead, MountResult, Repository } from '../../functions/oci/repository.js';

/** One call the engine made, in order: what a unit test asserts on instead of timing or prose. */
export interface RepositoryCall {
  readonly op:
    | 'headManifest'
    | 'getManifest'
    | 'putManifest'
    | 'headBlob'
    | 'openBlob'
    | 'mountBlob'
    | 'writeBlob'
    | 'deleteManifest';
  readonly target: string;
  readonly offset?: number;
  readonly from?: string;
  /** For writeBlob: the upload session it was handed (a refused mount's), if any. */
  readonly session?: string;
}

/**
 * Faults a test scripts into a repository. Each counter is consumed as the engine trips it,
 * so "the second open fails" is `{ openFailures: 1 }` after the first open succeeded… or
 * the hook, for anything finer.
 */
export interface RepositoryFaults {
  /** Opens that throw a retryable TransportError before any byte. */
  openFailures?: number;
  /** Opens whose body fails after this many bytes (a reset mid-stream), one per entry. */
  cutAfter?: number[];
  /** The source ignores Range (serves from 0 and says so). */
  ignoresRange?: boolean;
  /** Mounts the registry refuses (answers with an upload session instead). */
  refuseMounts?: boolean;
  /** Writes that fail with a retryable TransportError after reading the body. */
  writeFailures?: number;
  /** `checkWriteAccess` refuses (AuthenticationError, as a registry's 401/403 on opening an upload). */
  writeAccessDenied?: boolean;
  /** `deleteManifest` refuses (DeleteDisabledError, as a registry's 405). */
  deletesDisabled?: boolean;
  /** Called before every operation; throw to inject anything else. */
  before?: (call: RepositoryCall) => void | Promise<void>;
}

/**
 * A Repository in memory: manifests by digest and tag, blobs by digest, a call log and scripted
 * faults. It verifies what it is given as a registry would (a blob whose bytes do not match its
 * digest is refused), so the engine's checks are exercised, not assumed. `shared` blobs model a
 * registry: repositories built on the same map can mount from each other.
 */
export class MemoryRepository implements Repository {
  readonly registry: string | undefined;
  readonly name: string;
  readonly calls: RepositoryCall[] = [];
  readonly manifests = new Map<string, Manifest>();
  readonly tags = new Map<string, Digest>();
  readonly blobs: Map<string, Buffer>;
  /** Referrers by subject digest; `undefined` models a registry without the OCI 1.1 API. */
  referrersApi: Map<string, Descriptor[]> | undefined = new Map();
  faults: RepositoryFaults;
  readonly #registryBlobs: Map<string, Map<string, Buffer>> | undefined;

  constructor(
    name: string,
    options: { registry?: string; faults?: RepositoryFaults; registryBlobs?: Map<string, Map<string, Buffer>> } = {},
  ) {
    this.name = name;
    this.registry = options.registry ?? 'memory.test';
    this.faults = options.faults ?? {};
    this.#registryBlobs = options.registryBlobs;
    this.blobs = new Map();
    this.#registryBlobs?.set(name, this.blobs);
  }

  get display(): string {
    return `${this.registry}/${this.name}`;
  }

  /** Stores a blob (test setup; no call logged). */
  addBlob(bytes: Buffer | string, mediaType = 'application/octet-stream'): Descriptor {
    const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    const digest = digestOf(data);
    this.blobs.set(digest, data);
    return { mediaType, digest, size: data.length };
  }

  /** Stores a manifest under its digest and, if given, a tag (test setup; no call logged). */
  addManifest(document: object, tag?: string): Manifest {
    const manifest = parseManifest(Buffer.from(JSON.stringify(document)));
    this.manifests.set(manifest.digest, manifest);
    if (tag !== undefined) this.tags.set(tag, manifest.digest);
    return manifest;
  }

  /** How many calls of one kind the engine made. */
  count(op: RepositoryCall['op']): number {
    return this.calls.filter((c) => c.op === op).length;
  }

  #details(): { registry: string; repository: string } {
    return { registry: this.registry ?? '', repository: this.name };
  }

  async #log(call: RepositoryCall): Promise<void> {
    this.calls.push(call);
    await this.faults.before?.(call);
  }

  #lookup(reference: string): Manifest | undefined {
    const digest = isDigest(reference) ? reference : this.tags.get(reference);
    return digest === undefined ? undefined : this.manifests.get(digest);
  }

  async headManifest(reference: string): Promise<ManifestHead | undefined> {
    await this.#log({ op: 'headManifest', target: reference });
    const found = this.#lookup(reference);
    return found && { digest: found.digest, mediaType: found.mediaType, size: found.bytes.length };
  }

  async getManifest(reference: string): Promise<Manifest> {
    await this.#log({ op: 'getManifest', target: reference });
    const found = this.#lookup(reference);
    if (!found) throw new NotFoundError(`${this.display}: manifest ${reference} not found`, this.#details());
    return found;
  }

  async putManifest(reference: string, manifest: Manifest): Promise<{ readonly subjectIndexed: boolean }> {
    await this.#log({ op: 'putManifest', target: reference });
    const document = manifest.kind === 'index' ? manifest.index : manifest.image;
    for (const d of manifest.kind === 'index' ? [] : [manifest.image.config, ...manifest.image.layers]) {
      if (!this.blobs.has(d.digest) && !(d.urls?.length ?? 0)) {
        throw new Error(`${this.display}: manifest ${manifest.digest} references missing blob ${d.digest}`);
      }
    }
    for (const d of manifest.kind === 'index' ? manifest.index.manifests : []) {
      if (!this.manifests.has(d.digest)) {
        throw new Error(`${this.display}: index ${manifest.digest} references missing manifest ${d.digest}`);
      }
    }
    this.manifests.set(manifest.digest, manifest);
    if (!isDigest(reference)) this.tags.set(reference, manifest.digest);
    const subject = document.subject;
    if (subject && this.referrersApi) {
      const list = this.referrersApi.get(subject.digest) ?? [];
      list.push({ mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.bytes.length });
      this.referrersApi.set(subject.digest, list);
    }
    return { subjectIndexed: subject !== undefined && this.referrersApi !== undefined };
  }

  async headBlob(descriptor: Descriptor): Promise<boolean> {
    await this.#log({ op: 'headBlob', target: descriptor.digest });
    return this.blobs.has(descriptor.digest);
  }

  async openBlob(descriptor: Descriptor, offset: number): Promise<BlobBody> {
    await this.#log({ op: 'openBlob', target: descriptor.digest, offset });
    if ((this.faults.openFailures ?? 0) > 0) {
      this.faults.openFailures! -= 1;
      throw new TransportError(`${this.display}: connection reset opening ${descriptor.digest}`, this.#details());
    }
    const data = this.blobs.get(descriptor.digest);
    if (!data) throw new NotFoundError(`${this.display}: blob ${descriptor.digest} not found`, this.#details());
    const start = this.faults.ignoresRange ? 0 : offset;
    const rest = data.subarray(start);
    const cut = this.faults.cutAfter?.shift();
    if (cut === undefined || cut >= rest.length) return { body: Readable.from([rest]), offset: start };
    const body = new Readable({ read() {} });
    body.push(rest.subarray(0, cut));
    setImmediate(() => body.destroy(new TransportError(`${this.display}: reset mid-blob`, this.#details())));
    return { body, offset: start };
  }

  async mountBlob(descriptor: Descriptor, fromRepository: string): Promise<MountResult> {
    await this.#log({ op: 'mountBlob', target: descriptor.digest, from: fromRepository });
    const donor = this.#registryBlobs?.get(fromRepository)?.get(descriptor.digest);
    if (this.faults.refuseMounts || donor === undefined)
      return { mounted: false, session: `session-${this.calls.length}` };
    this.blobs.set(descriptor.digest, donor);
    return { mounted: true };
  }

  async writeBlob(descriptor: Descriptor, body: Readable, session?: string): Promise<void> {
    await this.#log({ op: 'writeBlob', target: descriptor.digest, ...(session === undefined ? {} : { session }) });
    const data = await buffer(body);
    if ((this.faults.writeFailures ?? 0) > 0) {
      this.faults.writeFailures! -= 1;
      throw new TransportError(`${this.display}: upload of ${descriptor.digest} reset`, this.#details());
    }
    if (data.length !== descriptor.size || digestOf(data) !== descriptor.digest) {
      throw new Error(`${this.display}: blob ${descriptor.digest} refused: content does not match`);
    }
    this.blobs.set(descriptor.digest, data);
  }

  async referrers(digest: Digest): Promise<Descriptor[] | undefined> {
    return this.referrersApi ? [...(this.referrersApi.get(digest) ?? [])] : undefined;
  }

  async checkWriteAccess(): Promise<void> {
    if (this.faults.writeAccessDenied)
      throw new AuthenticationError(`${this.display}: push access denied`, { ...this.#details(), status: 403 });
  }

  async listTags(): Promise<string[]> {
    return [...this.tags.keys()].sort();
  }

  /** Removes the manifest and every tag on it, as a registry's manifest DELETE does. */
  async deleteManifest(digest: Digest): Promise<void> {
    await this.#log({ op: 'deleteManifest', target: digest });
    if (this.faults.deletesDisabled)
      throw new DeleteDisabledError(`${this.display}: deletes disabled`, { ...this.#details(), status: 405 });
    if (!this.manifests.delete(digest))
      throw new NotFoundError(`${this.display}: manifest ${digest} not found`, { ...this.#details(), status: 404 });
    for (const [tag, target] of this.tags) if (target === digest) this.tags.delete(tag);
  }
}

/** Repositories of one in-memory registry: blobs mount between them. */
export function memoryRegistry(
  registry = 'memory.test',
): (name: string, faults?: RepositoryFaults) => MemoryRepository {
  const blobs = new Map<string, Map<string, Buffer>>();
  return (name, faults) => new MemoryRepository(name, { registry, faults, registryBlobs: blobs });
}
