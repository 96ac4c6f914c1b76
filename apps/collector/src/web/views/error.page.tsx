import { Layout, Notice, type Viewer } from './layout.js';

/** A refusal or a missing page, in words, with the way back. */
export function ErrorPage(props: { status: number; title: string; message: string; viewer?: Viewer | undefined }) {
  return (
    <Layout title={props.title} viewer={props.viewer} narrow={!props.viewer}>
      <h1>{props.title}</h1>
      <Notice kind="error">{props.message}</Notice>
      <p>
        <a href="/">Back to the status page</a>
      </p>
    </Layout>
  );
}
