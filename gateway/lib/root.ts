// The repository's top folder (where package.json is), found from a module's URL by walking up. The same
// answer whether the module runs from its source (gateway/**.ts under tsx) or from the ahead-of-time bundle
// (build/gateway/main.js, `npm run build:gateway`), whose folders sit at another depth.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageRoot(moduleUrl: string): string {
  let dir = path.dirname(fileURLToPath(moduleUrl));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${fileURLToPath(moduleUrl)}`);
    dir = up;
  }
}
