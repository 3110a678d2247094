import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FIELD_TYPES, RESERVED_ENTITIES, UNMAPPED_POLICIES } from '../../../src/mapping/index.ts';
import { fieldSpecSchema, mappingFileSchema } from '../../../src/mapping/mapping-schema.ts';

interface JsonSchemaDoc {
  required: string[];
  properties: Record<string, { enum?: string[]; not?: { enum: string[] } }>;
  $defs: { field: { required: string[]; properties: Record<string, { enum?: string[] }> } };
}

// Editors validate with mappings/mapping.schema.json, the loader with zod: they must agree.
const jsonSchema = JSON.parse(readFileSync('mappings/mapping.schema.json', 'utf8')) as JsonSchemaDoc;

describe('mappings/mapping.schema.json', () => {
  it('has the same top-level keys as the loader', () => {
    expect(Object.keys(jsonSchema.properties).sort()).toEqual(Object.keys(mappingFileSchema.shape).sort());
    expect(jsonSchema.required.sort()).toEqual(['entity', 'fields', 'table']);
    expect(jsonSchema.properties.unmapped!.enum).toEqual([...UNMAPPED_POLICIES]);
    expect(jsonSchema.properties.entity!.not!.enum).toEqual([...RESERVED_ENTITIES]);
  });

  it('has the same field options and types as the loader', () => {
    const field = jsonSchema.$defs.field;
    expect(Object.keys(field.properties).sort()).toEqual(Object.keys(fieldSpecSchema.shape).sort());
    expect(field.required).toEqual(['from']);
    expect(field.properties.type!.enum).toEqual([...FIELD_TYPES]);
  });
});
