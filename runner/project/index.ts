export { type BundleFallback, configBundleFallbacks } from './config-module.js';
export {
  CONFIG_NAMES,
  configInFolder,
  DEFAULT_PROJECT_FILE,
  findProjectConfig,
  loadProject,
  locateProject,
  type Project,
  type ProjectApp,
  type ProjectAws,
  ProjectConfigError,
  type ProjectEvents,
  type ProjectImport,
  type ProjectPattern,
  patternIdsOf,
  patternRules,
  type ResolvedCommand,
  type ResolveOptions,
  resolveProject,
} from './load.js';
export { defineProject, OPERATIONS, type ProjectConfigInput, projectSchema } from './schema.js';
export { TemplateError, tablesFromTemplate } from './template.js';
