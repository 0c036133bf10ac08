/**
 * Micrometer meters of the {@link io.github.sisksse.EventSourceRegistry}.
 */
@NullMarked
package io.github.sisksse.micrometer;

import org.jspecify.annotations.NullMarked;
