export declare const ALLOWED: Record<string, string[]>;
/** Problems (file:line: what) of the src/ tree at `root`; empty when the layers hold. */
export declare function checkLayers(root: string): string[];
