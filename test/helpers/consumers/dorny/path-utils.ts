// @ts-nocheck -- vendored verbatim (apart from the import paths marked "was"); not our code style.
// From dorny/test-reporter (https://github.com/dorny/test-reporter), commit 29672c52a8220c09bd9f79b5b6cf6315f1763996,
// file src/utils/path-utils.ts. The MIT License (MIT), Copyright (c) 2021 Michal Dorner and contributors:
// see ./LICENSE. Vendored so the tests read our JUnit with the parser the GitHub action runs.
// (only normalizeFilePath, the one function the parser imports)
export function normalizeFilePath(path: string): string {
  if (!path) {
    return path
  }

  return path.trim().replace(/\\/g, '/')
}
