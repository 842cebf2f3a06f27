// FT-over-HTTP towards recipients who cannot take the file-info XML (CPM-CONV-XXXa): a non-CPM recipient
// gets an SMS with the file's name and size and a short link to a page a plain browser can open (ftsms).
// Pure functions over messages, called by the dispatcher before a non-SIP egress; no I/O.
#pragma once

#include <optional>
#include <string>

#include "cpmgw/message.h"
#include "fthttp/ft_xml.h"

namespace cpmgw::fthttp {

class FileStore;

// Whether the message body is FT-over-HTTP file-info XML (by its content type).
bool isFtHttpMessage(const Message& message);

// The link for a browser: a data url of this content server (".../d/<token>") becomes its link page
// (".../l/<token>"); any other url is returned as it is.
std::string shortLinkFor(const std::string& dataUrl);

// "<sender> sent you a file: <name> (<size>) <link>"; the sender without its URI scheme, a long name cut.
std::string smsText(const std::string& from, const FileInfo& file, const std::string& link);

// The text/plain message that replaces an FT-over-HTTP message to a recipient without fthttp capability who
// is not a CPM user. nullopt when the message is not FT XML or its XML is not usable (it then goes as it is).
// Ids, addresses and attributes are kept; ft.* attributes record the original link, name and size.
std::optional<Message> toSmsLink(const StoredMessage& message);

// Records the recipient's answer to the file offered by `ftXml` (its accept/reject, CPM-CONV-045) for the IMDN
// path: the file is found through the data url's token. False when the XML or the file is unknown.
bool recordTransferResponse(FileStore& files, const std::string& ftXml, bool accepted, const std::string& by);

}  // namespace cpmgw::fthttp
