import type { Readable } from 'node:stream';
import { deleteScope, pullScope, pushScope } from './auth/authenticator.js';
import { type Digest, digestOf, isDigest, parseDigest } from './digest.js';
import { DeleteDisabledError, DigestMismatchError, ManifestInvalidError } from './errors.js';
import { type Descriptor, type Manifest, parseManifest } from './manifest.js';
import { Header, manifestAccept, maxManifestBytes, MediaType } from './media-types.js';
import type { RegistryClient } from './registry-client.js';
import type { BlobBody, ManifestHead, MountResult, Repository, TagListOptions } from './repository.js';
import { listTagPages } from './tag-list.js';
import { RegistryUploads } from './upload-session.js';
import { discardBody, headerValue, readUpTo } from './transport.js';

/**
 * How blobs are uploaded: `put` is POST then one streamed `PUT ?digest=` with the body
 * (monolithic, fastest); `patch` is POST, one streamed PATCH, then `PUT ?digest=` (what ECR needs).
 */
export type UploadMode = 'put' | 'patch';

export interface RegistryRepositoryOptions {
  /** Whether this repository is written to (asks tokens for push). */
  readonly push?: boolean;
  readonly uploadMode?: UploadMode;
}

/** A repository in a registry: the distribution API's steps, named as the spec names them. */
export class RegistryRepository implements Repository {
  readonly registry: string;
  readonly name: string;
  readonly display: string;
  readonly #client: RegistryClient;
  readonly #scopes: readonly string[];
  readonly #uploadMode: UploadMode;
  /** The upload steps, monolithic and chunked (sessions that outlive a process). */
  readonly uploads: RegistryUploads;

  constructor(client: RegistryClient, name: string, options: RegistryRepositoryOptions = {}) {
    this.#client = client;
    this.registry = client.registry;
    this.name = name;
    this.display = `${client.registry}/${name}`;
    this.#scopes = [options.push ? pushScope(name) : pullScope(name)];
    this.#uploadMode = options.uploadMode ?? 'put';
    this.uploads = new RegistryUploads(client, name, this.#scopes);
  }

  async headManifest(reference: string): Promise<ManifestHead | undefined> {
    const res = await this.#client.request({
      method: 'HEAD',
      path: this.#path('manifests', reference),
      repository: this.name,
      scopes: this.#scopes,
      expect: [200, 404],
      headers: { [Header.accept]: manifestAccept },
    });
    discardBody(res.body);
    if (res.status === 404) return undefined;
    const digest = headerValue(res.headers, Header.contentDigest);
    const mediaType = headerValue(res.headers, Header.contentType);
    const size = Number(headerValue(res.headers, Header.contentLength));
    if (digest === undefined || !isDigest(digest) || mediaType === undefined) {
      // Some registries omit the digest on HEAD: fall back to reading the manifest.
      const manifest = await this.getManifest(reference);
      return { digest: manifest.digest, mediaType: manifest.mediaType, size: manifest.bytes.length };
    }
    return { digest: digest as Digest, mediaType: mediaType.split(';')[0]!.trim(), size };
  }

  async getManifest(reference: string): Promise<Manifest> {
    const res = await this.#client.request({
      method: 'GET',
      path: this.#path('manifests', reference),
      repository: this.name,
      scopes: this.#scopes,
      expect: [200],
      headers: { [Header.accept]: manifestAccept },
      followRedirects: true,
    });
    const declared = Number(headerValue(res.headers, Header.contentLength));
    if (declared > maxManifestBytes) {
      res.body.destroy();
      throw new ManifestInvalidError(
        `${this.display}:${reference}: manifest is ${declared} bytes; the limit is ${maxManifestBytes}`,
      );
    }
    const bytes = await readAtMost(res.body, maxManifestBytes);
    if (bytes === undefined)
      throw new ManifestInvalidError(`${this.display}:${reference}: manifest is larger than ${maxManifestBytes} bytes`);
    const digest = isDigest(reference) ? parseDigest(reference) : undefined;
    if (digest !== undefined && digestOf(bytes, digest.startsWith('sha512:') ? 'sha512' : 'sha256') !== digest) {
      throw new DigestMismatchError(`${this.display}@${reference}: manifest content does not match its digest`);
    }
    try {
      return parseManifest(bytes, headerValue(res.headers, Header.contentType), digest);
    } catch (err) {
      if (err instanceof ManifestInvalidError)
        throw new ManifestInvalidError(`${this.display}:${reference}: ${err.message}`);
      throw err;
    }
  }

  async putManifest(reference: string, manifest: Manifest): Promise<{ subjectIndexed: boolean }> {
    const res = await this.#client.request({
      method: 'PUT',
      path: this.#path('manifests', reference),
      repository: this.name,
      scopes: this.#scopes,
      expect: [200, 201],
      headers: { [Header.contentType]: manifest.mediaType },
      body: manifest.bytes,
    });
    discardBody(res.body);
    const returned = headerValue(res.headers, Header.contentDigest);
    if (
      returned !== undefined &&
      returned.startsWith('sha256:') &&
      manifest.digest.startsWith('sha256:') &&
      returned !== manifest.digest
    ) {
      throw new DigestMismatchError(
        `${this.display}:${reference}: registry stored the manifest as ${returned}, expected ${manifest.digest}`,
      );
    }
    return { subjectIndexed: headerValue(res.headers, Header.ociSubject) !== undefined };
  }

  async headBlob(descriptor: Descriptor): Promise<boolean> {
    const res = await this.#client.request({
      method: 'HEAD',
      path: this.#path('blobs', descriptor.digest),
      repository: this.name,
      scopes: this.#scopes,
      expect: [200, 404],
      followRedirects: true,
    });
    discardBody(res.body);
    if (res.status === 404) return false;
    const length = headerValue(res.headers, Header.contentLength);
    return length === undefined || Number(length) === descriptor.size;
  }

  async openBlob(descriptor: Descriptor, offset: number): Promise<BlobBody> {
    const headers: Record<string, string> = offset > 0 ? { [Header.range]: `bytes=${offset}-` } : {};
    const res = await this.#client.request({
      method: 'GET',
      path: this.#path('blobs', descriptor.digest),
      repository: this.name,
      scopes: this.#scopes,
      expect: [200, 206],
      headers,
      followRedirects: true,
      streamBytes: descriptor.size - offset,
    });
    return { body: res.body, offset: res.status === 206 ? offset : 0 };
  }

  async mountBlob(descriptor: Descriptor, fromRepository: string): Promise<MountResult> {
    const query = new URLSearchParams({ mount: descriptor.digest, from: fromRepository });
    const res = await this.#client.request({
      method: 'POST',
      path: `v2/${this.name}/blobs/uploads/?${query}`,
      repository: this.name,
      scopes: [...this.#scopes, pullScope(fromRepository)],
      expect: [201, 202],
    });
    discardBody(res.body);
    if (res.status === 201) return { mounted: true };
    const location = headerValue(res.headers, Header.location);
    return location === undefined ? { mounted: false } : { mounted: false, session: location };
  }

  async writeBlob(descriptor: Descriptor, body: Readable, session?: string): Promise<void> {
    let location = session ?? (await this.uploads.startUpload());
    try {
      if (this.#uploadMode === 'patch') {
        location = await this.uploads.patchWhole(location, descriptor, body);
        await this.uploads.commitUpload(location, descriptor.digest, null, 0);
      } else {
        await this.uploads.commitUpload(location, descriptor.digest, body, descriptor.size);
      }
    } catch (err) {
      body.destroy();
      await this.uploads.cancel(location);
      throw err;
    }
  }

  async referrers(digest: Digest): Promise<Descriptor[] | undefined> {
    const res = await this.#client.request({
      method: 'GET',
      path: this.#path('referrers', digest),
      repository: this.name,
      scopes: this.#scopes,
      expect: [200, 400, 404, 405],
      headers: { [Header.accept]: MediaType.ociIndex },
      followRedirects: true,
    });
    const contentType = headerValue(res.headers, Header.contentType) ?? '';
    if (res.status !== 200 || !contentType.startsWith(MediaType.ociIndex)) {
      discardBody(res.body);
      return undefined;
    }
    const bytes = await readAtMost(res.body, maxManifestBytes);
    if (bytes === undefined)
      throw new ManifestInvalidError(`${this.display}: referrers list of ${digest} is too large`);
    const manifest = parseManifest(bytes, contentType);
    return manifest.kind === 'index' ? manifest.index.manifests : undefined;
  }

  async checkWriteAccess(): Promise<void> {
    await this.uploads.cancel(await this.uploads.startUpload());
  }

  listTags(options?: TagListOptions): Promise<string[]> {
    return listTagPages(this.#client, this.name, this.#scopes, options);
  }

  /**
   * `DELETE /v2/<name>/manifests/<digest>` (202). A tag cannot be deleted this way: the spec
   * deletes manifests, and every tag on that manifest goes with it. 404 is a NotFoundError; 405
   * is a DeleteDisabledError (docker-registry without `storage.delete.enabled`, Docker Hub).
   */
  async deleteManifest(digest: Digest): Promise<void> {
    const res = await this.#client.request({
      method: 'DELETE',
      path: this.#path('manifests', digest),
      repository: this.name,
      scopes: [deleteScope(this.name)],
      // The spec answers 202; some registries say 200 or 204 for the same outcome.
      expect: [200, 202, 204, 405],
    });
    discardBody(res.body);
    if (res.status === 405)
      throw new DeleteDisabledError(`${this.display}: the registry has manifest deletes disabled (HTTP 405)`, {
        registry: this.registry,
        repository: this.name,
        status: 405,
      });
  }

  #path(kind: 'manifests' | 'blobs' | 'referrers', reference: string): string {
    return `v2/${this.name}/${kind}/${reference}`;
  }
}

/** A whole body of at most `limit` bytes; undefined (and the body dropped) when it is longer. */
async function readAtMost(body: Readable, limit: number): Promise<Buffer | undefined> {
  const { bytes, complete } = await readUpTo(body, limit);
  return complete ? bytes : undefined;
}
