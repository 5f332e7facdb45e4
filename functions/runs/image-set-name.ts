/** An image set's name: a DNS label (lowercase letters, digits, inner "-"), as Kubernetes names objects. */
export const imageSetNamePattern = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** What a 400 says of a name that does not fit {@link imageSetNamePattern}. */
export const imageSetNameRule =
  'must be 1 to 63 lowercase letters, digits or "-", starting and ending with a letter or digit';
