// The shape of the generated schema tables (src/generated/<service>/schema.ts).
export interface ShapeDef {
  type:
    | 'structure'
    | 'list'
    | 'map'
    | 'string'
    | 'integer'
    | 'long'
    | 'double'
    | 'float'
    | 'boolean'
    | 'timestamp'
    | 'blob';
  members?: Record<string, string>;
  required?: string[];
  member?: string;
  key?: string;
  value?: string;
  enum?: string[];
  min?: number;
  max?: number;
  pattern?: string;
  exception?: boolean;
  fault?: boolean;
  document?: boolean;
}

export interface OperationDef {
  input: string | null;
  output: string | null;
  errors: string[];
}

export interface ServiceSchema {
  targetPrefix: string;
  endpointPrefix: string;
  operations: Record<string, OperationDef>;
  shapes: Record<string, ShapeDef>;
}
