import { z } from 'zod';

// Pieces every section's schema of an image-set document uses (document-schema.ts, helm/schema.ts).

/** A field oc-mirror has and Ferry refuses rather than silently mirroring somewhere else. */
export const unsupported = (why: string) =>
  z
    .unknown()
    .superRefine((_, ctx) => ctx.addIssue({ code: 'custom', message: `not supported by Ferry yet: ${why}` }))
    .optional();

/** A list that YAML may leave empty (`additionalImages:` alone is null), as Go decodes it. */
export const list = <T extends z.ZodType>(item: T, max: number) =>
  z
    .array(item)
    .max(max)
    .nullish()
    .transform((v) => v ?? []);
