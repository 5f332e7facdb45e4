import { parseEcrHost } from '../oci/ecr-host.js';
import { FerryError } from '../oci/errors.js';
import { parseImageReference } from '../oci/reference.js';
import { BadRequestError } from './run-request.js';

/** An ECR repository this deployment may not touch. Never retryable. */
export class EcrScopeError extends FerryError {
  override readonly name = 'EcrScopeError';
  readonly code = 'ECR_OUT_OF_SCOPE';
  constructor(message: string) {
    super(message, { retryable: false });
  }
}

/**
 * The ECR repositories runs may read and write: names matching one of the configured prefixes,
 * with IAM's wildcard meaning (`mirror/` = `mirror/*`, `*` matches anything). The stack grants
 * the same resources; this check refuses a run before any request, with a message that says what
 * to configure. Registries that are not ECR are not limited here.
 */
export class EcrScope {
  readonly #prefixes: readonly string[];
  readonly #patterns: readonly RegExp[];

  constructor(prefixes: readonly string[]) {
    this.#prefixes = prefixes;
    this.#patterns = prefixes.map((p) => new RegExp(`^${(p.endsWith('*') ? p : `${p}*`).split('*').map(escape).join('.*')}$`));
  }

  /** Why `registry/repository` is refused, or undefined when allowed (or not ECR). */
  refusal(registry: string, repository: string): string | undefined {
    if (!parseEcrHost(registry)) return undefined;
    if (this.#patterns.some((p) => p.test(repository))) return undefined;
    return this.#prefixes.length === 0
      ? `ECR repository ${registry}/${repository}: this deployment may use no ECR repository; set "ecrRepositoryPrefixes" in cdk.json's "ferry" context (e.g. ["mirror/"]) and deploy again`
      : `ECR repository ${registry}/${repository} is outside the repository prefixes this deployment may use (${this.#prefixes.join(', ')}); add a prefix to "ecrRepositoryPrefixes" in cdk.json's "ferry" context`;
  }

  /** Throws EcrScopeError when the repository is refused. */
  check(registry: string, repository: string): void {
    const refusal = this.refusal(registry, repository);
    if (refusal !== undefined) throw new EcrScopeError(refusal);
  }
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** The API's check of a run's pairs: a 400 naming the image (or the destination) before anything is written. */
export function checkEcrScope(scope: EcrScope, pairs: readonly { source: string; destination: string }[]): void {
  pairs.forEach((pair, i) => {
    const source = parseImageReference(pair.source);
    const destination = parseImageReference(pair.destination);
    const refusal = scope.refusal(source.registry, source.repository);
    if (refusal !== undefined) throw new BadRequestError(`images[${i}]: ${refusal}`);
    const writeRefusal = scope.refusal(destination.registry, destination.repository);
    if (writeRefusal !== undefined) throw new BadRequestError(`destination: ${writeRefusal}`);
  });
}
