import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The Vulkan driver manifest that `.ci/cpu-webgpu.sh` writes when run without a folder argument. */
export function privateLavapipeManifest(): string {
  const cache = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  return join(cache, 'cpu-webgpu', 'lvp_icd.json');
}

/**
 * `navigator.gpu` for Node, from Dawn (npm `webgpu`).
 *
 * When the private lavapipe of cpu-webgpu.sh is installed but its environment was not sourced, its
 * manifest is added with VK_ADD_DRIVER_FILES: the Vulkan loader reads it when Dawn creates its
 * instance, and it adds to (rather than replaces) any real GPU driver. Lavapipe also loads with the
 * system's libdrm, so the script's LD_LIBRARY_PATH is not needed for this.
 */
export async function nodeGpu(): Promise<GPU> {
  const manifest = privateLavapipeManifest();
  if (!process.env.VK_ICD_FILENAMES && !process.env.VK_ADD_DRIVER_FILES && existsSync(manifest)) {
    process.env.VK_ADD_DRIVER_FILES = manifest;
  }
  const { create, globals } = await import('webgpu');
  // Browsers define GPUBufferUsage, GPUMapMode, ... as globals; Node gets them from Dawn.
  for (const [name, value] of Object.entries(globals)) {
    if (!(name in globalThis))
      Object.defineProperty(globalThis, name, { value, writable: true, configurable: true });
  }
  return create([]);
}
