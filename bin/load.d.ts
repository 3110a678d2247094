export function compiledIsCurrent(packageRoot?: string): boolean;
export function loadModule(relative: string): Promise<Record<string, unknown>>;
