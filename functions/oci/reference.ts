import { type Digest, parseDigest } from './digest.js';
import { InvalidReferenceError } from './errors.js';

/** An image in a registry: `registry/repository[:tag][@digest]`, normalised as Docker does. */
export interface ImageReference {
  readonly registry: string;
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: Digest;
}

/** An image in an OCI image-layout directory (`oci:DIR[:TAG]`). */
export interface LayoutReference {
  readonly dir: string;
  readonly tag?: string;
}

export type Location =
  | { readonly kind: 'registry'; readonly ref: ImageReference }
  | { readonly kind: 'layout'; readonly ref: LayoutReference };

/** Docker Hub's name in references, credentials and messages. */
export const dockerHubRegistry = 'docker.io';

/** Other names of Docker Hub that references and auth-file keys may use; all mean {@link dockerHubRegistry}. */
export const dockerHubAliases: ReadonlySet<string> = new Set([
  'index.docker.io',
  'registry-1.docker.io',
  'registry.hub.docker.com',
]);

/**
 * A registry host as Ferry names it: a Docker Hub alias becomes `docker.io`, anything else is
 * returned as given. Case-sensitive, as Docker's normalisation is: callers lower-case first when
 * the name may be in any case.
 */
export function canonicalRegistry(host: string): string {
  return dockerHubAliases.has(host) ? dockerHubRegistry : host;
}

// The distribution reference grammar (distribution/reference/regexp.go).
const alphaNumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alphaNumeric}(?:${separator}${alphaNumeric})*`;
const pathRe = new RegExp(`^${pathComponent}(?:/${pathComponent})*$`);
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const hostRe = new RegExp(`^(?:${domainComponent}(?:\\.${domainComponent})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const tagRe = /^[\w][\w.-]{0,127}$/;
const maxNameLength = 255;

/** The grammar's repository path (`library/alpine`, a destination prefix): lowercase components joined by `/`. */
export const repositoryPathPattern: RegExp = pathRe;
/** The grammar's tag: a word character, then up to 127 word characters, dots and dashes. */
export const tagPattern: RegExp = tagRe;

/**
 * Parses `[docker://]name[:tag][@digest]`. Docker Hub short names normalise as Docker does:
 * `alpine` → `docker.io/library/alpine:latest`. Without tag or digest the tag is `latest`.
 */
export function parseImageReference(input: string): ImageReference {
  const raw = input.startsWith('docker://') ? input.slice('docker://'.length) : input;
  if (raw === '') throw invalid(input, 'empty reference');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\s]/.test(raw)) throw invalid(input, 'contains whitespace or control characters');

  let rest = raw;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = parseDigestIn(input, rest.slice(at + 1));
    rest = rest.slice(0, at);
  }

  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (tag === '') throw invalid(input, 'empty tag');
    if (!tagRe.test(tag)) {
      throw invalid(input, tag.length > 128 ? 'tag longer than 128 characters' : `invalid tag "${tag}"`);
    }
  }

  const { registry, repository } = splitName(input, rest);
  if (tag === undefined && digest === undefined) tag = 'latest';
  return { registry, repository, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

function splitName(input: string, name: string): { registry: string; repository: string } {
  if (name === '') throw invalid(input, 'empty repository name');
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  let registry: string;
  let repository: string;
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['))) {
    registry = first;
    repository = name.slice(slash + 1);
    if (!hostRe.test(registry)) throw invalid(input, `invalid registry host "${registry}"`);
  } else {
    registry = dockerHubRegistry;
    repository = name;
  }
  registry = canonicalRegistry(registry);
  if (registry === dockerHubRegistry && !repository.includes('/')) repository = `library/${repository}`;
  if (repository !== repository.toLowerCase()) throw invalid(input, 'repository names must be lowercase');
  if (repository.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw invalid(input, `invalid repository path "${repository}"`);
  }
  if (!pathRe.test(repository)) throw invalid(input, `invalid repository name "${repository}"`);
  if (registry.length + 1 + repository.length > maxNameLength) {
    throw invalid(input, `name longer than ${maxNameLength} characters`);
  }
  return { registry: registry.toLowerCase(), repository };
}

function parseDigestIn(input: string, value: string): Digest {
  try {
    return parseDigest(value);
  } catch (err) {
    throw invalid(input, err instanceof Error ? err.message : String(err));
  }
}

/** Parses a source or destination: `oci:DIR[:TAG]` or a registry reference. */
export function parseLocation(input: string): Location {
  if (input.startsWith('oci:')) {
    const body = input.slice('oci:'.length);
    const colon = body.indexOf(':');
    const dir = colon < 0 ? body : body.slice(0, colon);
    const tag = colon < 0 ? undefined : body.slice(colon + 1);
    if (dir === '') throw invalid(input, 'oci: needs a directory');
    if (tag !== undefined && !tagRe.test(tag)) throw invalid(input, `invalid tag "${tag}"`);
    return { kind: 'layout', ref: { dir, ...(tag === undefined ? {} : { tag }) } };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//.exec(input);
  if (scheme && scheme[1] !== 'docker') {
    throw invalid(input, `unknown transport "${scheme[1]}://" (use docker://, oci: or a plain reference)`);
  }
  return { kind: 'registry', ref: parseImageReference(input) };
}

/** The manifest reference a request uses: the digest when there is one, else the tag. */
export function manifestRef(ref: ImageReference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}

/** `registry/repository[:tag][@digest]` */
export function formatReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag === undefined ? '' : `:${ref.tag}`}${ref.digest === undefined ? '' : `@${ref.digest}`}`;
}

export function formatLocation(location: Location): string {
  return location.kind === 'registry'
    ? formatReference(location.ref)
    : `oci:${location.ref.dir}${location.ref.tag === undefined ? '' : `:${location.ref.tag}`}`;
}

/**
 * Destination for a mirrored image: `<registry>/<prefix>/<source path>:<tag>`; images referenced
 * by digest keep the digest.
 */
export function mirrorDestination(source: ImageReference, target: string): ImageReference {
  const slash = target.indexOf('/');
  const registry = slash < 0 ? target : target.slice(0, slash);
  const prefix = slash < 0 ? '' : target.slice(slash + 1).replace(/\/+$/, '');
  const repository = prefix === '' ? source.repository : `${prefix}/${source.repository}`;
  const parsed = parseImageReference(`${registry}/${repository}:x`);
  return {
    registry: parsed.registry,
    repository: parsed.repository,
    ...(source.tag === undefined ? {} : { tag: source.tag }),
    ...(source.digest === undefined ? {} : { digest: source.digest }),
  };
}

function invalid(input: string, why: string): InvalidReferenceError {
  const redacted = redactUserinfo(input);
  const shown = redacted.length > 100 ? `${redacted.slice(0, 97)}...` : redacted;
  // eslint-disable-next-line no-control-regex
  return new InvalidReferenceError(`invalid reference "${shown.replace(/[\u0000-\u001f\u007f]/g, '?')}": ${why}`);
}

/**
 * A trailing `@algorithm:encoded` (any case, possibly malformed): the digest, which is no
 * userinfo. `@host:port` looks the same, so a short all-digit `encoded` counts as a port.
 */
const digestSuffix = /@[A-Za-z0-9]+(?:[+._-][A-Za-z0-9]+)*:(?!\d{1,5}$)[A-Za-z0-9=_-]*$/;

/**
 * A reference echoed back in a message never carries a password: `user:pass@quay.io/app` (a URL
 * habit, not reference grammar) becomes `user:***@quay.io/app`. The password may hold `/`, `@`
 * and `:`, so everything up to the last `@` before the digest (reference grammar has no other
 * `@`) is userinfo; the user is what precedes its first `:`. `name:tag@sha256:…` is left alone,
 * and so is an `oci:` path.
 */
export function redactUserinfo(input: string): string {
  if (input.startsWith('oci:')) return input;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(input)?.[0] ?? '';
  const body = input.slice(scheme.length);
  const digest = digestSuffix.exec(body)?.[0] ?? '';
  const name = body.slice(0, body.length - digest.length);
  const at = name.lastIndexOf('@');
  const colon = name.indexOf(':');
  if (at < 0 || colon < 0 || colon > at) return input;
  return `${scheme}${name.slice(0, colon)}:***@${name.slice(at + 1)}${digest}`;
}
