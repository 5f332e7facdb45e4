import type { Digest } from '../../oci/digest.js';
import { UsageError } from '../../oci/errors.js';
import type { Descriptor } from '../../oci/manifest.js';
import type { MountResult } from '../../oci/repository.js';

/**
 * What both archive repositories (the destination of mirror-to-disk, the source of disk-to-mirror)
 * answer alike: no mounts, no referrers API, no tag listing or deletion, nothing to prove.
 */
export abstract class ArchiveRepositoryBase {
  readonly registry = undefined;
  readonly name: string;
  readonly display: string;

  constructor(dir: string, path: string) {
    this.name = path;
    this.display = `file://${dir}/${path}`;
  }

  mountBlob(): Promise<MountResult> {
    return Promise.resolve({ mounted: false });
  }

  referrers(): Promise<Descriptor[] | undefined> {
    return Promise.resolve(undefined);
  }

  checkWriteAccess(): Promise<void> {
    return Promise.resolve();
  }

  listTags(): Promise<string[]> {
    return Promise.reject(new UsageError(`${this.display}: an archive lists no tags`));
  }

  deleteManifest(digest: Digest): Promise<void> {
    return Promise.reject(new UsageError(`${this.display}: cannot delete ${digest} from an archive`));
  }
}
