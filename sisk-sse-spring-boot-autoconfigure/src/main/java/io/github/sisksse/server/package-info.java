/**
 * Settings of the embedded web server itself, for whichever of Spring Boot's servlet containers runs: the send
 * buffer of the connections it accepts ({@code sisk.sse.server.send-buffer}).
 */
@NullMarked
package io.github.sisksse.server;

import org.jspecify.annotations.NullMarked;
