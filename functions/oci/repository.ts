import type { Readable } from 'node:stream';
import type { ChunkRules } from './chunk-rules.js';
import type { Digest } from './digest.js';
import type { Descriptor, Manifest } from './manifest.js';

export interface ManifestHead {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly size: number;
}

/** A blob body from `offset`; `offset` is where the stream really starts (0 when a range was ignored). */
export interface BlobBody {
  readonly body: Readable;
  readonly offset: number;
}

/** The answer to a mount attempt: mounted, or an upload session the registry opened instead. */
export type MountResult = { readonly mounted: true } | { readonly mounted: false; readonly session?: string };

/** Where an upload session stands: its latest `Location` (registry-relative when on the registry) and the bytes it holds. */
export interface UploadState {
  readonly location: string;
  readonly offset: number;
}

/**
 * An upload session driven chunk by chunk (the distribution spec's "Pushing a blob in chunks"),
 * so that a blob can be uploaded across processes: each step hands back the session's next state.
 *
 * WARNING: always continue from the state the last step returned: registries such as distribution
 * sign the offset into the `Location`, and a stale one cancels the session.
 */
export interface ChunkedUploads {
  readonly rules: ChunkRules;
  /** `POST` → a new session at offset 0. */
  start(): Promise<UploadState>;
  /** `PATCH` with `Content-Range: <offset>-<end>`; UploadUnknownError when the session is gone or at another offset. */
  append(state: UploadState, chunk: Buffer): Promise<UploadState>;
  /** `GET <location>` → the session's offset (its `Range`); undefined when the registry no longer knows it. */
  status(location: string): Promise<UploadState | undefined>;
  /** `PUT <location>?digest=` with no body: every byte was appended. */
  commit(state: UploadState, digest: Digest): Promise<void>;
  /** `DELETE <location>`, best effort. */
  cancel(location: string): Promise<void>;
}

/** How `GET /v2/<name>/tags/list` is paged (tag-list.ts has the defaults). */
export interface TagListOptions {
  /** `n=`: tags asked for per page. */
  readonly pageSize?: number;
  /** Pages followed at most; one more `Link` is a `TOO_MANY_PAGES` TagListError. */
  readonly maxPages?: number;
}

/** One side of a copy: a repository and the tag or digest in it. */
export interface RepositoryRef {
  readonly repository: Repository;
  readonly reference: string;
}

/**
 * One repository of images, in a registry or an OCI layout directory: the small set of protocol
 * steps the copy engine needs. Implementations verify what they read and write.
 */
export interface Repository {
  /** Registry host; undefined for layout directories. */
  readonly registry: string | undefined;
  /** Repository path, or the layout directory. */
  readonly name: string;
  /** `registry/repository` or `oci:DIR`, for messages. */
  readonly display: string;

  headManifest(reference: string): Promise<ManifestHead | undefined>;
  /** Reads, size-caps, digest-checks (when `reference` is a digest) and parses a manifest. */
  getManifest(reference: string): Promise<Manifest>;
  /** Pushes the manifest's exact bytes under a tag or its digest. Returns whether the registry indexed its subject (`OCI-Subject`). */
  putManifest(reference: string, manifest: Manifest): Promise<{ readonly subjectIndexed: boolean }>;

  headBlob(descriptor: Descriptor): Promise<boolean>;
  openBlob(descriptor: Descriptor, offset: number): Promise<BlobBody>;
  mountBlob(descriptor: Descriptor, fromRepository: string): Promise<MountResult>;
  /**
   * Writes a blob from a stream. The stream must already verify digest and size (see
   * `DigestVerifier`); implementations also refuse to commit content that does not match.
   */
  writeBlob(descriptor: Descriptor, body: Readable, session?: string): Promise<void>;
  /** Chunked upload sessions that outlive a process; absent where blobs cannot be uploaded in parts (layouts). */
  readonly uploads?: ChunkedUploads;

  /** Referrers of a manifest via the OCI 1.1 API; undefined when the API is not there. */
  referrers(digest: Digest): Promise<Descriptor[] | undefined>;
  /** Proves write access without writing (opens and cancels an upload); a no-op where there is nothing to prove. */
  checkWriteAccess(): Promise<void>;
  /** Every tag, all pages (registries: `tags/list` with `n=` and same-origin `Link`s; see tag-list.ts). */
  listTags(options?: TagListOptions): Promise<string[]>;
  /**
   * Deletes a manifest by digest, and so every tag that points at it. NotFoundError when it is
   * not there; registries that refuse deletes answer DeleteDisabledError.
   */
  deleteManifest(digest: Digest): Promise<void>;
}
