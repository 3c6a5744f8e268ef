// Lint rules that hold the architecture in place (not conventions):
// - `vscode` is imported only under src/extension/ (and the host tests);
// - native modules are never imported by the extension host or the webview,
//   whose runtimes (VS Code's Electron, a browser) cannot load them.
import tseslint from 'typescript-eslint';

const vscodeOnlyInExtension = {
  name: 'vscode',
  message: 'Only src/extension/ may import vscode: src/core, src/agent, src/shared and webview/ must run without VS Code.',
};
const nativeModules = ['better-sqlite3', 'onnxruntime-node'].map((name) => ({
  name,
  message: `${name} is a native module: load it only in the agent (src/agent, src/core), never in the extension host or a webview.`,
}));

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'demo/**', '**/*.js', '**/*.mjs'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-restricted-imports': ['error', { paths: [vscodeOnlyInExtension] }],
    },
  },
  {
    files: ['src/extension/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: nativeModules }] },
  },
  {
    files: ['webview/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [vscodeOnlyInExtension, ...nativeModules] }] },
  },
  {
    files: ['test/host/**/*.ts', 'test/electron/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
);
