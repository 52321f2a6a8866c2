// The labs the grader knows, by id.
import { UsageError } from '../model.js';
import { productionizing } from '../labs/productionizing/catalogue.js';
import type { LabDefinition } from './types.js';

export const LABS: Readonly<Record<string, LabDefinition>> = { productionizing };
export const LAB_IDS: readonly string[] = Object.keys(LABS);

export function getLab(id: string): LabDefinition {
  const lab = LABS[id];
  if (!lab) throw new UsageError(`unknown lab ${JSON.stringify(id)}; known labs: ${LAB_IDS.join(', ')}`);
  return lab;
}

export type { AppTargets, CheckDefinition, CheckKind, GroupDefinition, LabDefinition } from './types.js';
