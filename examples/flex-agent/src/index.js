import * as FlexPlugin from '@twilio/flex-plugin';

import VerifyPanelPlugin from './VerifyPanelPlugin';

FlexPlugin.loadPlugin(VerifyPanelPlugin);
