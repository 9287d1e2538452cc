// Just enough of Flex for the plugin to load outside it: the host object
// `loadPlugin` calls, and the three things VerifyPanelPlugin.init uses
// (TaskCanvasTabs.Content.add, Tab, withTaskContext). The task is the one
// named in the page's query string (?from=+1…&sid=WT…).
import React from 'react';
import ReactDOM from 'react-dom';

const query = new URLSearchParams(window.location.search);
const task = {
  sid: query.get('sid') || 'WT00000000000000000000000000000000',
  attributes: { from: query.get('from') || '' },
};
const tabs = [];

const flex = {
  TaskCanvasTabs: { Content: { add: (element) => tabs.push(element) } },
  Tab: ({ label, children }) => (
    <section aria-label={label}>
      <h1 style={{ font: '600 13px system-ui', color: '#606b85', margin: '8px 16px' }}>Task {task.sid} · {label}</h1>
      {children}
    </section>
  ),
  withTaskContext: (Component) => (props) => <Component {...props} task={task} />,
};

window.Twilio = {
  Flex: {
    Plugins: {
      async init(PluginClass) {
        await new PluginClass().init(flex, {});
        ReactDOM.render(<>{tabs}</>, document.getElementById('root'));
      },
    },
  },
};
