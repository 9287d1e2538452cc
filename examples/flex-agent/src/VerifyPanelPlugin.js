import React from 'react';
import { FlexPlugin } from '@twilio/flex-plugin';

import VerifyPanel from './components/VerifyPanel/VerifyPanel';
import { verifyApi } from './components/VerifyPanel/verifyApi';

const PLUGIN_NAME = 'VerifyPanelPlugin';

export default class VerifyPanelPlugin extends FlexPlugin {
  constructor() {
    super(PLUGIN_NAME);
  }

  /**
   * Adds a "Verify" tab to the task view: send the customer a code, type what
   * they read back, see the outcome.
   *
   * @param flex { typeof import('@twilio/flex-ui') }
   */
  async init(flex) {
    // Build-time settings from .env (FLEX_APP_ variables), as the plugin
    // builder inlines them. The key is the panel's own, not your servers'.
    const api = verifyApi({
      startUrl: process.env.FLEX_APP_VERIFY_START_URL,
      checkUrl: process.env.FLEX_APP_VERIFY_CHECK_URL,
      keySid: process.env.FLEX_APP_VERIFY_KEY_SID,
      keySecret: process.env.FLEX_APP_VERIFY_KEY_SECRET,
    });
    const Panel = flex.withTaskContext(VerifyPanel);
    flex.TaskCanvasTabs.Content.add(
      <flex.Tab key="verify-panel-tab" uniqueName="verify" label="Verify">
        <Panel api={api} />
      </flex.Tab>,
    );
  }
}
