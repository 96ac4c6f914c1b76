import { CsrfField, Layout, type Viewer } from './layout.js';

/** "Are you sure?" before what cannot be undone: what happens, in words, and a button that says it. */
export function ConfirmPage(props: { viewer: Viewer | undefined; title: string; text: string; action: string; button: string; cancel: string }) {
  return (
    <Layout title={props.title} viewer={props.viewer} narrow>
      <h1>{props.title}</h1>
      <p>{props.text}</p>
      <form method="post" action={props.action} class="actions">
        <CsrfField token={props.viewer?.csrf ?? ''} />
        <button type="submit" class="danger">
          {props.button}
        </button>
        <a href={props.cancel}>Cancel</a>
      </form>
    </Layout>
  );
}
