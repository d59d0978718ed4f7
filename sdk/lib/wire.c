/*
 * Hytale wire primitives: VarInt, frame header, HostAddress, strings,
 * offset slots, packet names and UUIDs.  See doc/protocol.md.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hyprox/codec.h>
#include <hyprox/error.h>

#include "lib.h"
#include "wire.h"

/* Packet names of build 2026.02.17 (HYTALE-PROTOCOL.md §3.8), sorted by id. */
static const struct hyp_packet_name_entry {
	uint16_t	 id;
	const char	*name;
} hyp_packet_names[] = {
	{ 0, "Connect" },
	{ 1, "Disconnect" },
	{ 2, "Ping" },
	{ 3, "Pong" },
	{ 11, "AuthGrant" },
	{ 12, "AuthToken" },
	{ 13, "ServerAuthToken" },
	{ 14, "ConnectAccept" },
	{ 15, "PasswordResponse" },
	{ 16, "PasswordAccepted" },
	{ 17, "PasswordRejected" },
	{ 18, "ClientReferral" },
	{ 20, "WorldSettings" },
	{ 21, "WorldLoadProgress" },
	{ 22, "WorldLoadFinished" },
	{ 23, "RequestAssets" },
	{ 24, "AssetInitialize" },
	{ 25, "AssetPart" },
	{ 26, "AssetFinalize" },
	{ 27, "RemoveAssets" },
	{ 28, "RequestCommonAssetsRebuild" },
	{ 29, "SetUpdateRate" },
	{ 30, "SetTimeDilation" },
	{ 31, "UpdateFeatures" },
	{ 32, "ViewRadius" },
	{ 33, "PlayerOptions" },
	{ 34, "ServerTags" },
	{ 40, "UpdateBlockTypes" },
	{ 41, "UpdateBlockHitboxes" },
	{ 42, "UpdateBlockSoundSets" },
	{ 43, "UpdateItemSoundSets" },
	{ 44, "UpdateBlockParticleSets" },
	{ 45, "UpdateBlockBreakingDecals" },
	{ 46, "UpdateBlockSets" },
	{ 47, "UpdateWeathers" },
	{ 48, "UpdateTrails" },
	{ 49, "UpdateParticleSystems" },
	{ 50, "UpdateParticleSpawners" },
	{ 51, "UpdateEntityEffects" },
	{ 52, "UpdateItemPlayerAnimations" },
	{ 53, "UpdateModelvfxs" },
	{ 54, "UpdateItems" },
	{ 55, "UpdateItemQualities" },
	{ 56, "UpdateItemCategories" },
	{ 57, "UpdateItemReticles" },
	{ 58, "UpdateFieldcraftCategories" },
	{ 59, "UpdateResourceTypes" },
	{ 60, "UpdateRecipes" },
	{ 61, "UpdateEnvironments" },
	{ 62, "UpdateAmbienceFX" },
	{ 63, "UpdateFluidFX" },
	{ 64, "UpdateTranslations" },
	{ 65, "UpdateSoundEvents" },
	{ 66, "UpdateInteractions" },
	{ 67, "UpdateRootInteractions" },
	{ 68, "UpdateUnarmedInteractions" },
	{ 69, "TrackOrUpdateObjective" },
	{ 70, "UntrackObjective" },
	{ 71, "UpdateObjectiveTask" },
	{ 72, "UpdateEntityStatTypes" },
	{ 73, "UpdateEntityUIComponents" },
	{ 74, "UpdateHitboxCollisionConfig" },
	{ 75, "UpdateRepulsionConfig" },
	{ 76, "UpdateViewBobbing" },
	{ 77, "UpdateCameraShake" },
	{ 78, "UpdateBlockGroups" },
	{ 79, "UpdateSoundSets" },
	{ 80, "UpdateAudioCategories" },
	{ 81, "UpdateReverbEffects" },
	{ 82, "UpdateEqualizerEffects" },
	{ 83, "UpdateFluids" },
	{ 84, "UpdateTagPatterns" },
	{ 85, "UpdateProjectileConfigs" },
	{ 100, "SetClientId" },
	{ 101, "SetGameMode" },
	{ 102, "SetMovementStates" },
	{ 103, "SetBlockPlacementOverride" },
	{ 104, "JoinWorld" },
	{ 105, "ClientReady" },
	{ 106, "LoadHotbar" },
	{ 107, "SaveHotbar" },
	{ 108, "ClientMovement" },
	{ 109, "ClientTeleport" },
	{ 110, "UpdateMovementSettings" },
	{ 111, "MouseInteraction" },
	{ 112, "DamageInfo" },
	{ 113, "ReticleEvent" },
	{ 114, "DisplayDebug" },
	{ 115, "ClearDebugShapes" },
	{ 116, "SyncPlayerPreferences" },
	{ 117, "ClientPlaceBlock" },
	{ 118, "UpdateMemoriesFeatureStatus" },
	{ 119, "RemoveMapMarker" },
	{ 131, "SetChunk" },
	{ 132, "SetChunkHeightmap" },
	{ 133, "SetChunkTintmap" },
	{ 134, "SetChunkEnvironments" },
	{ 135, "UnloadChunk" },
	{ 136, "SetFluids" },
	{ 140, "ServerSetBlock" },
	{ 141, "ServerSetBlocks" },
	{ 142, "ServerSetFluid" },
	{ 143, "ServerSetFluids" },
	{ 144, "UpdateBlockDamage" },
	{ 145, "UpdateTimeSettings" },
	{ 146, "UpdateTime" },
	{ 147, "UpdateEditorTimeOverride" },
	{ 148, "ClearEditorTimeOverride" },
	{ 149, "UpdateWeather" },
	{ 150, "UpdateEditorWeatherOverride" },
	{ 151, "UpdateEnvironmentMusic" },
	{ 152, "SpawnParticleSystem" },
	{ 153, "SpawnBlockParticleSystem" },
	{ 154, "PlaySoundEvent2D" },
	{ 155, "PlaySoundEvent3D" },
	{ 156, "PlaySoundEventEntity" },
	{ 157, "UpdateSleepState" },
	{ 158, "SetPaused" },
	{ 159, "ServerSetPaused" },
	{ 160, "SetEntitySeed" },
	{ 161, "EntityUpdates" },
	{ 162, "PlayAnimation" },
	{ 163, "ChangeVelocity" },
	{ 164, "ApplyKnockback" },
	{ 165, "SpawnModelParticles" },
	{ 166, "MountMovement" },
	{ 170, "UpdatePlayerInventory" },
	{ 171, "SetCreativeItem" },
	{ 172, "DropCreativeItem" },
	{ 173, "SmartGiveCreativeItem" },
	{ 174, "DropItemStack" },
	{ 175, "MoveItemStack" },
	{ 176, "SmartMoveItemStack" },
	{ 177, "SetActiveSlot" },
	{ 178, "SwitchHotbarBlockSet" },
	{ 179, "InventoryAction" },
	{ 200, "OpenWindow" },
	{ 201, "UpdateWindow" },
	{ 202, "CloseWindow" },
	{ 203, "SendWindowAction" },
	{ 204, "ClientOpenWindow" },
	{ 210, "ServerMessage" },
	{ 211, "ChatMessage" },
	{ 212, "Notification" },
	{ 213, "KillFeedMessage" },
	{ 214, "ShowEventTitle" },
	{ 215, "HideEventTitle" },
	{ 216, "SetPage" },
	{ 217, "CustomHud" },
	{ 218, "CustomPage" },
	{ 219, "CustomPageEvent" },
	{ 222, "EditorBlocksChange" },
	{ 223, "ServerInfo" },
	{ 224, "AddToServerPlayerList" },
	{ 225, "RemoveFromServerPlayerList" },
	{ 226, "UpdateServerPlayerList" },
	{ 227, "UpdateServerPlayerListPing" },
	{ 228, "UpdateKnownRecipes" },
	{ 229, "UpdatePortal" },
	{ 230, "UpdateVisibleHudComponents" },
	{ 231, "ResetUserInterfaceState" },
	{ 232, "UpdateLanguage" },
	{ 233, "WorldSavingStatus" },
	{ 234, "OpenChatWithCommand" },
	{ 235, "UpdateAnchorUI" },
	{ 240, "UpdateWorldMapSettings" },
	{ 241, "UpdateWorldMap" },
	{ 242, "ClearWorldMap" },
	{ 243, "UpdateWorldMapVisible" },
	{ 244, "TeleportToWorldMapMarker" },
	{ 245, "TeleportToWorldMapPosition" },
	{ 246, "CreateUserMarker" },
	{ 250, "RequestServerAccess" },
	{ 251, "UpdateServerAccess" },
	{ 252, "SetServerAccess" },
	{ 260, "RequestMachinimaActorModel" },
	{ 261, "SetMachinimaActorModel" },
	{ 262, "UpdateMachinimaScene" },
	{ 280, "SetServerCamera" },
	{ 281, "CameraShakeEffect" },
	{ 282, "RequestFlyCameraMode" },
	{ 283, "SetFlyCameraMode" },
	{ 290, "SyncInteractionChains" },
	{ 291, "CancelInteractionChain" },
	{ 292, "PlayInteractionFor" },
	{ 293, "MountNPC" },
	{ 294, "DismountNPC" },
	{ 300, "FailureReply" },
	{ 301, "SuccessReply" },
	{ 302, "AssetEditorInitialize" },
	{ 303, "AssetEditorAuthorization" },
	{ 304, "AssetEditorCapabilities" },
	{ 305, "AssetEditorSetupSchemas" },
	{ 306, "AssetEditorSetupAssetTypes" },
	{ 307, "AssetEditorCreateDirectory" },
	{ 308, "AssetEditorDeleteDirectory" },
	{ 309, "AssetEditorRenameDirectory" },
	{ 310, "AssetEditorFetchAsset" },
	{ 311, "AssetEditorFetchJsonAssetWithParents" },
	{ 312, "AssetEditorFetchAssetReply" },
	{ 313, "AssetEditorFetchJsonAssetWithParentsReply" },
	{ 314, "AssetEditorAssetPackSetup" },
	{ 315, "AssetEditorUpdateAssetPack" },
	{ 316, "AssetEditorCreateAssetPack" },
	{ 317, "AssetEditorDeleteAssetPack" },
	{ 319, "AssetEditorAssetListSetup" },
	{ 320, "AssetEditorAssetListUpdate" },
	{ 321, "AssetEditorRequestChildrenList" },
	{ 322, "AssetEditorRequestChildrenListReply" },
	{ 323, "AssetEditorUpdateJsonAsset" },
	{ 324, "AssetEditorUpdateAsset" },
	{ 325, "AssetEditorJsonAssetUpdated" },
	{ 326, "AssetEditorAssetUpdated" },
	{ 327, "AssetEditorCreateAsset" },
	{ 328, "AssetEditorRenameAsset" },
	{ 329, "AssetEditorDeleteAsset" },
	{ 330, "AssetEditorDiscardChanges" },
	{ 331, "AssetEditorFetchAutoCompleteData" },
	{ 332, "AssetEditorFetchAutoCompleteDataReply" },
	{ 333, "AssetEditorRequestDataset" },
	{ 334, "AssetEditorRequestDatasetReply" },
	{ 335, "AssetEditorActivateButton" },
	{ 336, "AssetEditorSelectAsset" },
	{ 337, "AssetEditorPopupNotification" },
	{ 338, "AssetEditorFetchLastModifiedAssets" },
	{ 339, "AssetEditorLastModifiedAssets" },
	{ 340, "AssetEditorModifiedAssetsCount" },
	{ 341, "AssetEditorSubscribeModifiedAssetsChanges" },
	{ 342, "AssetEditorExportAssets" },
	{ 343, "AssetEditorExportAssetInitialize" },
	{ 344, "AssetEditorExportAssetPart" },
	{ 345, "AssetEditorExportAssetFinalize" },
	{ 346, "AssetEditorExportDeleteAssets" },
	{ 347, "AssetEditorExportComplete" },
	{ 349, "AssetEditorUndoChanges" },
	{ 350, "AssetEditorRedoChanges" },
	{ 351, "AssetEditorUndoRedoReply" },
	{ 352, "AssetEditorSetGameTime" },
	{ 353, "AssetEditorUpdateSecondsPerGameDay" },
	{ 354, "AssetEditorUpdateWeatherPreviewLock" },
	{ 355, "AssetEditorUpdateModelPreview" },
	{ 360, "UpdateSunSettings" },
	{ 361, "UpdatePostFxSettings" },
	{ 400, "BuilderToolArgUpdate" },
	{ 401, "BuilderToolEntityAction" },
	{ 402, "BuilderToolSetEntityTransform" },
	{ 403, "BuilderToolExtrudeAction" },
	{ 404, "BuilderToolStackArea" },
	{ 405, "BuilderToolSelectionTransform" },
	{ 406, "BuilderToolRotateClipboard" },
	{ 407, "BuilderToolPasteClipboard" },
	{ 408, "BuilderToolSetTransformationModeState" },
	{ 409, "BuilderToolSelectionUpdate" },
	{ 410, "BuilderToolSelectionToolAskForClipboard" },
	{ 411, "BuilderToolSelectionToolReplyWithClipboard" },
	{ 412, "BuilderToolGeneralAction" },
	{ 413, "BuilderToolOnUseInteraction" },
	{ 414, "BuilderToolLineAction" },
	{ 415, "BuilderToolShowAnchor" },
	{ 416, "BuilderToolHideAnchors" },
	{ 417, "PrefabUnselectPrefab" },
	{ 418, "BuilderToolsSetSoundSet" },
	{ 419, "BuilderToolLaserPointer" },
	{ 420, "BuilderToolSetEntityScale" },
	{ 421, "BuilderToolSetEntityPickupEnabled" },
	{ 422, "BuilderToolSetEntityLight" },
	{ 423, "BuilderToolSetNPCDebug" },
	{ 425, "BuilderToolSetEntityCollision" },
};

/* Read a little-endian u16. */
uint16_t
hyp_wire_le16(const uint8_t *p)
{
	return ((uint16_t)(p[0] | (p[1] << 8)));
}

/* Read a little-endian u32. */
uint32_t
hyp_wire_le32(const uint8_t *p)
{
	return ((uint32_t)p[0] | ((uint32_t)p[1] << 8) |
	    ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24));
}

/* Write a little-endian u32. */
static void
hyp_wire_store_le32(uint8_t *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

/* Decode an unsigned LEB128 VarInt of at most 5 bytes. */
HYP_API int
hyp_varint_decode(const uint8_t *buf, size_t len, uint32_t *out)
{
	uint32_t	v = 0;
	size_t		i;
	uint8_t		b;

	for (i = 0; i < 5; i++) {
		if (i >= len)
			return (HYP_ETRUNC);
		b = buf[i];
		if (i == 4) {
			/* Bits 28..30 only: no continuation, no sign bit. */
			if (b > 0x07)
				return (HYP_EVARINT);
		}
		v |= (uint32_t)(b & 0x7f) << (7 * i);
		if ((b & 0x80) == 0) {
			if (out != NULL)
				*out = v;
			return ((int)i + 1);
		}
	}
	return (HYP_EVARINT);	/* Not reached. */
}

/* Bytes of the canonical VarInt encoding of v. */
HYP_API size_t
hyp_varint_size(uint32_t v)
{
	size_t	n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return (n);
}

/* Encode v as a canonical VarInt. */
HYP_API int
hyp_varint_encode(uint32_t v, uint8_t *out, size_t cap)
{
	size_t	n, i;

	if (v > INT32_MAX)
		return (HYP_ERANGE);
	n = hyp_varint_size(v);
	if (cap < n)
		return (HYP_ENOSPC);
	for (i = 0; i < n; i++) {
		out[i] = v & 0x7f;
		v >>= 7;
		if (i + 1 < n)
			out[i] |= 0x80;
	}
	return ((int)n);
}

/* Decode and check an 8-byte frame header. */
HYP_API int
hyp_frame_header_decode(const uint8_t *buf, size_t len, uint32_t *payload_len,
    uint32_t *packet_id)
{
	uint32_t	plen, id;
	size_t		max;

	if (len < HYP_FRAME_HEADER_LEN)
		return (HYP_ETRUNC);
	plen = hyp_wire_le32(buf);
	id = hyp_wire_le32(buf + 4);
	if (payload_len != NULL)
		*payload_len = plen;
	if (packet_id != NULL)
		*packet_id = id;
	if (plen > HYP_MAX_PACKET_SIZE)
		return (HYP_ETOOBIG);
	max = hyp_packet_max_size(id);
	if (max != 0 && plen > max)
		return (HYP_ETOOBIG);
	return (0);
}

/* Write an 8-byte frame header. */
HYP_API void
hyp_frame_header_encode(uint8_t out[HYP_FRAME_HEADER_LEN], uint32_t payload_len,
    uint32_t packet_id)
{
	hyp_wire_store_le32(out, payload_len);
	hyp_wire_store_le32(out + 4, packet_id);
}

/* Documented maximum payload of a packet id, or 0 when unknown. */
HYP_API size_t
hyp_packet_max_size(uint32_t packet_id)
{
	switch (packet_id) {
	case HYP_PKT_CONNECT:
		return (HYP_CONNECT_V1_MAX);	/* Largest of V1, V2, V3. */
	case HYP_PKT_DISCONNECT:
		return (HYP_DISCONNECT_MAX);
	case 11:	/* AuthGrant */
	case 12:	/* AuthToken */
		return (49171);
	case 13:	/* ServerAuthToken */
		return (32851);
	case HYP_PKT_CONNECT_ACCEPT:
	case 15:	/* PasswordResponse */
		return (HYP_CONNECT_ACCEPT_MAX);
	case 17:	/* PasswordRejected */
		return (74);
	case HYP_PKT_CLIENT_REFERRAL:
		return (HYP_CLIENT_REFERRAL_MAX);
	default:
		/* 2 and 3 change meaning between builds; 16 is empty. */
		return (0);
	}
}

/* Check one UTF-8 sequence starting at s[0]; return its length or 0. */
static size_t
hyp_wire_utf8_seq(const uint8_t *s, size_t len)
{
	uint8_t	b = s[0];
	size_t	n, i;
	uint8_t	lo = 0x80, hi = 0xbf;

	if (b < 0x80)
		return (1);
	if (b >= 0xc2 && b <= 0xdf)
		n = 2;
	else if (b >= 0xe0 && b <= 0xef) {
		n = 3;
		if (b == 0xe0)
			lo = 0xa0;		/* Overlong. */
		else if (b == 0xed)
			hi = 0x9f;		/* Surrogates. */
	} else if (b >= 0xf0 && b <= 0xf4) {
		n = 4;
		if (b == 0xf0)
			lo = 0x90;		/* Overlong. */
		else if (b == 0xf4)
			hi = 0x8f;		/* Above U+10FFFF. */
	} else
		return (0);
	if (len < n)
		return (0);
	for (i = 1; i < n; i++) {
		if (s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xbf))
			return (0);
	}
	return (n);
}

/* Check that a string obeys its content rule. */
int
hyp_wire_check_kind(const uint8_t *s, size_t len, enum hyp_wire_kind kind)
{
	size_t	i, n;

	switch (kind) {
	case HYP_WIRE_RAW:
		return (0);
	case HYP_WIRE_ASCII:
		for (i = 0; i < len; i++) {
			if (s[i] < 0x20 || s[i] > 0x7e)
				return (HYP_EUTF8);
		}
		return (0);
	case HYP_WIRE_UTF8:
		for (i = 0; i < len; i += n) {
			n = hyp_wire_utf8_seq(s + i, len - i);
			if (n == 0)
				return (HYP_EUTF8);
		}
		return (0);
	}
	return (HYP_EINVAL);
}

/* Validate one i32le offset slot against its null bit and the buffer. */
int
hyp_wire_slot(const uint8_t *buf, size_t len, size_t slot, size_t varblock,
    int nullable, int present, size_t *pos)
{
	int32_t	off;

	off = (int32_t)hyp_wire_le32(buf + slot);
	if (nullable && !present) {
		if (off != -1)
			return (HYP_EMALFORMED);	/* Null bit clear, slot set. */
		*pos = (size_t)-1;
		return (0);
	}
	if (off == -1)
		return (HYP_EMALFORMED);	/* Present field with a null slot. */
	if (off < 0)
		return (HYP_EOFFSET);
	if ((size_t)off >= len - varblock)
		return (HYP_EOFFSET);
	*pos = varblock + (size_t)off;
	return (0);
}

/* Decode a VarInt-prefixed byte string at buf[pos]. */
int
hyp_wire_bytes_decode(const uint8_t *buf, size_t len, size_t pos, size_t max,
    enum hyp_wire_kind kind, struct hyp_bytes *out)
{
	uint32_t	n;
	int		c, error;

	c = hyp_varint_decode(buf + pos, len - pos, &n);
	if (c < 0)
		return (c);
	if (n > max)
		return (HYP_ETOOBIG);
	if (n > len - pos - (size_t)c)
		return (HYP_ETRUNC);
	if ((error = hyp_wire_check_kind(buf + pos + c, n, kind)) != 0)
		return (error);
	out->ptr = buf + pos + c;
	out->len = n;
	return (c + (int)n);
}

/* Validate a view before encoding it. */
int
hyp_wire_bytes_check(const struct hyp_bytes *b, size_t max,
    enum hyp_wire_kind kind)
{
	if (b->ptr == NULL)
		return (0);
	if (b->len > max)
		return (HYP_ETOOBIG);
	if (hyp_wire_check_kind(b->ptr, b->len, kind) != 0)
		return (HYP_EINVAL);
	return (0);
}

/* Validate a HostAddress before encoding it. */
int
hyp_wire_host_check(const struct hyp_host_address *a)
{
	if (a->host.ptr == NULL)
		return (HYP_EINVAL);
	return (hyp_wire_bytes_check(&a->host, HYP_HOST_MAX, HYP_WIRE_UTF8));
}

/* Decode a HostAddress (u16le port, VarString host). */
HYP_API int
hyp_host_address_decode(const uint8_t *buf, size_t len,
    struct hyp_host_address *out)
{
	int	c;

	if (len < 2)
		return (HYP_ETRUNC);
	out->port = hyp_wire_le16(buf);
	c = hyp_wire_bytes_decode(buf, len, 2, HYP_HOST_MAX, HYP_WIRE_UTF8,
	    &out->host);
	if (c < 0)
		return (c);
	return (2 + c);
}

/* Encode a HostAddress. */
HYP_API int
hyp_host_address_encode(const struct hyp_host_address *a, uint8_t *out,
    size_t cap)
{
	struct hyp_wbuf	w = { out, cap, 0, 0 };
	int		error;

	if ((error = hyp_wire_host_check(a)) != 0)
		return (error);
	hyp_wire_put_host(&w, a);
	return (hyp_wire_result(&w));
}

/* Append n bytes, or record HYP_ENOSPC. */
void
hyp_wire_put(struct hyp_wbuf *w, const void *p, size_t n)
{
	if (w->err != 0)
		return;
	if (n > w->cap - w->len) {
		w->err = HYP_ENOSPC;
		return;
	}
	if (n > 0)
		memcpy(w->buf + w->len, p, n);
	w->len += n;
}

/* Append one byte. */
void
hyp_wire_put_u8(struct hyp_wbuf *w, uint8_t v)
{
	hyp_wire_put(w, &v, 1);
}

/* Append a little-endian u16. */
void
hyp_wire_put_le16(struct hyp_wbuf *w, uint16_t v)
{
	uint8_t	b[2] = { v & 0xff, (v >> 8) & 0xff };

	hyp_wire_put(w, b, sizeof(b));
}

/* Append a little-endian u32. */
void
hyp_wire_put_le32(struct hyp_wbuf *w, uint32_t v)
{
	uint8_t	b[4];

	hyp_wire_store_le32(b, v);
	hyp_wire_put(w, b, sizeof(b));
}

/* Append a canonical VarInt. */
void
hyp_wire_put_varint(struct hyp_wbuf *w, uint32_t v)
{
	uint8_t	b[5];
	int	n;

	n = hyp_varint_encode(v, b, sizeof(b));
	if (n < 0) {
		if (w->err == 0)
			w->err = n;
		return;
	}
	hyp_wire_put(w, b, (size_t)n);
}

/* Append a VarInt-prefixed byte string. */
void
hyp_wire_put_bytes(struct hyp_wbuf *w, const struct hyp_bytes *b)
{
	if (b->len > INT32_MAX) {
		if (w->err == 0)
			w->err = HYP_ETOOBIG;
		return;
	}
	hyp_wire_put_varint(w, (uint32_t)b->len);
	hyp_wire_put(w, b->ptr, b->len);
}

/* Append a HostAddress. */
void
hyp_wire_put_host(struct hyp_wbuf *w, const struct hyp_host_address *a)
{
	hyp_wire_put_le16(w, a->port);
	hyp_wire_put_bytes(w, &a->host);
}

/* Reserve a 4-byte offset slot holding -1. */
size_t
hyp_wire_slot_reserve(struct hyp_wbuf *w)
{
	size_t	slot = w->len;

	hyp_wire_put_le32(w, UINT32_MAX);
	return (slot);
}

/* Point a reserved slot at the current position. */
void
hyp_wire_slot_here(struct hyp_wbuf *w, size_t slot, size_t varblock)
{
	if (w->err != 0)
		return;
	if (w->len - varblock > INT32_MAX) {
		w->err = HYP_ETOOBIG;
		return;
	}
	hyp_wire_store_le32(w->buf + slot, (uint32_t)(w->len - varblock));
}

/* Bytes written so far, or the first error. */
int
hyp_wire_result(const struct hyp_wbuf *w)
{
	if (w->err != 0)
		return (w->err);
	if (w->len > INT32_MAX)
		return (HYP_ETOOBIG);
	return ((int)w->len);
}

/* Compare two name-table entries by id for bsearch(). */
static int
hyp_packet_name_cmp(const void *key, const void *elem)
{
	uint32_t					 id = *(const uint32_t *)key;
	const struct hyp_packet_name_entry		*e = elem;

	if (id < e->id)
		return (-1);
	return (id > e->id);
}

/* Name of a 02.17 packet id, or "Unknown". */
HYP_API const char *
hyp_packet_name(uint32_t packet_id)
{
	const struct hyp_packet_name_entry	*e;

	e = bsearch(&packet_id, hyp_packet_names,
	    sizeof(hyp_packet_names) / sizeof(hyp_packet_names[0]),
	    sizeof(hyp_packet_names[0]), hyp_packet_name_cmp);
	return (e != NULL ? e->name : "Unknown");
}

/* Format a big-endian UUID as 8-4-4-4-12 lower-case hex. */
HYP_API void
hyp_uuid_format(const uint8_t uuid[16], char out[37])
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i;
	char			*p = out;

	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = hex[uuid[i] >> 4];
		*p++ = hex[uuid[i] & 0x0f];
	}
	*p = '\0';
}

/* Value of a hex digit, or -1. */
static int
hyp_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* Parse a UUID with or without its four hyphens. */
HYP_API int
hyp_uuid_parse(const char *s, uint8_t uuid[16])
{
	uint8_t	tmp[16];
	size_t	len, i, j;
	int	hyphens, hi, lo;

	if (s == NULL)
		return (HYP_EINVAL);
	len = strlen(s);
	if (len == 36)
		hyphens = 1;
	else if (len == 32)
		hyphens = 0;
	else
		return (HYP_EINVAL);
	for (i = 0, j = 0; j < 16; j++) {
		if (hyphens && (j == 4 || j == 6 || j == 8 || j == 10)) {
			if (s[i++] != '-')
				return (HYP_EINVAL);
		}
		if ((hi = hyp_hexval(s[i])) < 0 ||
		    (lo = hyp_hexval(s[i + 1])) < 0)
			return (HYP_EINVAL);
		tmp[j] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	memcpy(uuid, tmp, sizeof(tmp));
	return (0);
}
