// esbuild loads .css files as text (scripts/build.mjs); the webview adopts them as constructed style sheets.
declare module '*.css' {
  const text: string;
  export default text;
}
