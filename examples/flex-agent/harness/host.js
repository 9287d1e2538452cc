// The standalone page: the Flex stand-in first, then the plugin's own entry
// point, exactly as the plugin builder bundles it.
import './flex-stand-in';
import '../src/index';
