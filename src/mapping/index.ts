export type * from './types.ts';
export { compileMapping, mapRow, unmappedKeyColumns, type MapOptions, type RowMapper } from './engine.ts';
export { loadMappingFile, parseMapping, type MappingParseResult } from './mapping-file.ts';
export { listMappingFiles, loadMappingDir, type MappingDirResult } from './mapping-dir.ts';
export { lintMappings, type LintResult } from './lint.ts';
export { FIELD_TYPES, RESERVED_ENTITIES, UNMAPPED_POLICIES } from './mapping-schema.ts';
export { isValidTimeZone } from './time-zone.ts';
