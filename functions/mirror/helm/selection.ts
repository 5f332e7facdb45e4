/** One `mirror.helm.repositories[].charts[]` entry: a chart version and extra values paths naming images. */
export interface HelmChartSpec {
  readonly name: string;
  readonly version: string;
  /** oc-mirror's `imagePaths`: `{.image.repository}:{.image.tag}` templates over the chart's values. */
  readonly imagePaths?: readonly string[];
}

/** One `mirror.helm.repositories[]` entry: a chart repository (`<url>/index.yaml`) and the charts read from it. */
export interface HelmRepositorySpec {
  readonly name: string;
  /** https (http only for hosts the CLI marks insecure). */
  readonly url: string;
  readonly charts: readonly HelmChartSpec[];
}

/** One `mirror.helm.local[]` entry (CLI only): a chart `.tgz` on disk. */
export interface HelmLocalSpec {
  readonly name: string;
  readonly path: string;
  readonly imagePaths?: readonly string[];
}

/** `mirror.helm`: what a set mirrors of Helm (issue 10 "Pinned: what is read"). */
export interface HelmSelection {
  readonly repositories: readonly HelmRepositorySpec[];
  readonly local: readonly HelmLocalSpec[];
}
