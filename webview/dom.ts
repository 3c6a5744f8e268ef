// The only way the webview builds DOM: elements from a tag, properties and
// children, where every string child becomes a text node. Run names, metric
// keys and param values come from files on disk; none of it is ever parsed
// as HTML (there is no innerHTML anywhere in the webview).
type Child = Node | string | null | undefined | false;

export interface ElementProps {
  class?: string;
  id?: string;
  title?: string;
  role?: string;
  tabIndex?: number;
  /** Attributes set with setAttribute (values are plain strings, never markup). */
  attrs?: Record<string, string | number | boolean | undefined>;
  /** data-* attributes. */
  data?: Record<string, string | number>;
  /** Properties assigned on the element (for custom elements: `checked`, `value`...). */
  props?: Record<string, unknown>;
  on?: Partial<Record<keyof HTMLElementEventMap | string, (event: Event) => void>>;
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props?: ElementProps, ...children: Child[]): HTMLElementTagNameMap[K];
export function h(tag: string, props?: ElementProps, ...children: Child[]): HTMLElement;
export function h(tag: string, props: ElementProps = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  if (props.class) el.className = props.class;
  if (props.id) el.id = props.id;
  if (props.title) el.title = props.title;
  if (props.role) el.setAttribute('role', props.role);
  if (props.tabIndex !== undefined) el.tabIndex = props.tabIndex;
  for (const [k, v] of Object.entries(props.attrs ?? {})) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const [k, v] of Object.entries(props.data ?? {})) el.dataset[k] = String(v);
  for (const [k, v] of Object.entries(props.props ?? {})) (el as unknown as Record<string, unknown>)[k] = v;
  for (const [event, handler] of Object.entries(props.on ?? {})) if (handler) el.addEventListener(event, handler);
  append(el, ...children);
  return el;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  }
}

export function clear(el: Node): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

/** Adopts CSS text as a constructed style sheet (allowed by the panel's CSP, unlike inline <style>). */
export function adoptCss(...texts: string[]): void {
  const sheets = texts.map((t) => {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(t);
    return sheet;
  });
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, ...sheets];
}

/**
 * Runs `render`, which replaces what is inside `container`, and gives the
 * keyboard focus back to the control that had it: the new element with the
 * same data-focus-id. Without this, Enter on a button or Space on a checkbox
 * that re-renders its own section drops the focus to <body>.
 */
export function keepingFocus(container: HTMLElement, render: () => void): void {
  const active = document.activeElement;
  const id = active instanceof HTMLElement && container.contains(active) ? active.dataset.focusId : undefined;
  render();
  if (id === undefined) return;
  const again = Array.from(container.querySelectorAll<HTMLElement & { updateComplete?: Promise<unknown> }>('[data-focus-id]')).find((el) => el.dataset.focusId === id);
  if (!again) return;
  again.focus();
  // A component (vscode-button, vscode-checkbox) becomes focusable once it has rendered, a microtask later.
  void again.updateComplete?.then(() => {
    if (document.activeElement !== again) again.focus();
  });
}
