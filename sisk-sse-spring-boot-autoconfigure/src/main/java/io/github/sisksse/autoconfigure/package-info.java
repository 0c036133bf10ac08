/**
 * Auto-configuration of the {@link io.github.sisksse.EventSourceRegistry} from {@code sisk.sse.*} properties.
 */
@NullMarked
package io.github.sisksse.autoconfigure;

import org.jspecify.annotations.NullMarked;
