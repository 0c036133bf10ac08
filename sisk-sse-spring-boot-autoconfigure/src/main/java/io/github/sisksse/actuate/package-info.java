/**
 * Actuator support: the {@code eventsources} endpoint and health indicator.
 */
@NullMarked
package io.github.sisksse.actuate;

import org.jspecify.annotations.NullMarked;
