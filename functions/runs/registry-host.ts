/**
 * A registry host as callers and secrets name it: `host[:port]`, a DNS name (letters, digits, dots,
 * dashes) or a bracketed IPv6 address, as the image reference parser takes it. No scheme, user or
 * path. The one definition for the API's host fields and a secret's registry binding.
 */
export const registryHostPattern =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::\d{1,5})?$/;
